/**
 * A test target that misbehaves on purpose, one behaviour per path prefix: /m/<mode>/v1/chat/completions
 * (OpenAI) and /m/<mode>/v2/models/<name>/generate_stream (Triton). Loopback only, ephemeral port.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MisbehavingServer {
  url: string;
  /** Requests received, by mode. */
  hits: Map<string, number>;
  /** TCP connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

const SSE = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };

function chunk(content: string): string {
  return `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
}

function usage(n: number): string {
  return `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 7, completion_tokens: n, total_tokens: 7 + n } })}\n\n`;
}

/** Writes `frames` one per `gapMs`, then calls `end`. */
function paced(res: ServerResponse, frames: string[], gapMs: number, end: () => void): void {
  let i = 0;
  const next = (): void => {
    if (res.destroyed) return;
    if (i < frames.length) {
      res.write(frames[i++]);
      setTimeout(next, gapMs);
    } else end();
  };
  next();
}

function handle(mode: string, req: IncomingMessage, res: ServerResponse, count: number, rest: string): void {
  const tokens = ['Hello', ' there', ' friend'];
  switch (mode) {
    case 'ok': {
      // Alternates experts so the per-expert breakdown has two entries.
      res.writeHead(200, { ...SSE, 'x-expert-router-expert': count % 2 === 0 ? 'code' : 'math', 'x-expert-router-cluster': String(count % 2) });
      paced(res, tokens.map(chunk), 2, () => res.end(usage(tokens.length) + 'data: [DONE]\n\n'));
      return;
    }
    case 'counted':
      res.writeHead(200, SSE);
      paced(res, tokens.map(chunk), 2, () => res.end('data: [DONE]\n\n'));
      return;
    case 'slow':
      setTimeout(() => handle('counted', req, res, count, rest), 200);
      return;
    case 'http500':
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'injected failure', type: 'server_error', code: 'injected_fault', param: null } }));
      return;
    case 'http429':
      res.writeHead(429, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'too busy', type: 'overloaded_error', code: 'overloaded', param: null } }));
      return;
    case 'flaky':
      if (count % 2 === 1) return handle('http500', req, res, count, rest);
      return handle('counted', req, res, count, rest);
    case 'malformed':
      res.writeHead(200, SSE);
      res.end(chunk('Hi') + 'data: {not json\n\n');
      return;
    case 'no-done':
      res.writeHead(200, SSE);
      res.end(chunk('Hi') + chunk(' you'));
      return;
    case 'partial-event':
      res.writeHead(200, SSE);
      res.end(chunk('Hi') + 'data: {"choices":[{"delta":{"content":"x"');
      return;
    case 'reset-mid':
      res.writeHead(200, SSE);
      res.write(chunk('Hi'));
      setTimeout(() => res.socket?.destroy(), 20);
      return;
    case 'reset-before':
      req.socket.destroy();
      return;
    case 'stall':
      res.writeHead(200, SSE);
      res.write(chunk('Hi'));
      return; // never ends; the client's stall timeout must fire
    case 'stall-headers':
      return; // never answers
    case 'stream-error':
      res.writeHead(200, SSE);
      res.end(chunk('Hi') + `event: error\ndata: ${JSON.stringify({ error: { message: 'backend died', type: 'upstream_error', code: 'upstream_stream_error', param: null } })}\n\n`);
      return;
    case 'json':
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"choices":[]}');
      return;
    case 'triton': {
      if (!rest.endsWith('/generate_stream')) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, SSE);
      const frames = tokens.map((t, i) => `data: ${JSON.stringify({ model_name: 'ensemble', model_version: '1', text_output: t, output_token_count: i + 1 })}\n\n`);
      paced(res, frames, 2, () => res.end());
      return;
    }
    default:
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"no such mode","type":"not_found_error","code":"not_found","param":null}}');
  }
}

export async function startMisbehavingServer(): Promise<MisbehavingServer> {
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const m = /^\/m\/([^/]+)(\/.*)$/.exec(req.url ?? '');
    const mode = m?.[1] ?? 'none';
    const count = hits.get(mode) ?? 0;
    hits.set(mode, count + 1);
    req.resume();
    req.on('end', () => handle(mode, req, res, count, m?.[2] ?? ''));
  });
  let connections = 0;
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

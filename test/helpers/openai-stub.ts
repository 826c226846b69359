/**
 * A scriptable OpenAI-compatible expert server for tests. Each answer's text names the stub, so a
 * test sees which expert answered; every request is recorded; faults can be switched on:
 * - 'ok': stream or whole answer, `tokens` tokens of "<name> ";
 * - 'error400' / 'error500': that status with an OpenAI error body, before any byte;
 * - 'midstream-drop': two chunks, then the connection is destroyed;
 * - 'stall': headers and nothing more (a stream) / no answer at all (whole);
 * - 'no-done': a stream that ends cleanly at the HTTP level but without [DONE].
 * With `tls` (a key and certificate in PEM) it serves HTTPS.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export type StubMode = 'ok' | 'error400' | 'error500' | 'midstream-drop' | 'stall' | 'no-done';

export interface StubBehavior {
  mode: StubMode;
  tokens: number;
  ttftMs: number;
  itlMs: number;
}

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown> | undefined;
}

export interface TestOpenAIStub {
  name: string;
  url: string;
  port: number;
  requests: ReceivedRequest[];
  /** Completion requests whose client went away before the answer ended. */
  aborted: number;
  behavior: StubBehavior;
  /** Resolves at the next abort (or at once when `aborted` already exceeds `seen`). */
  waitForAbort(seen?: number): Promise<void>;
  close(): Promise<void>;
}

function chunk(kind: string, text: string, first: boolean, finish: string | null): string {
  const choice = kind === 'chat'
    ? { index: 0, delta: finish ? {} : first ? { role: 'assistant', content: text } : { content: text }, finish_reason: finish }
    : { index: 0, text, finish_reason: finish };
  return `data: ${JSON.stringify({ id: 'stub-1', object: kind === 'chat' ? 'chat.completion.chunk' : 'text_completion', created: 1, model: 'stub', choices: [choice] })}\n\n`;
}

export async function startTestOpenAIStub(
  name: string,
  behavior: Partial<StubBehavior> = {},
  port = 0,
  tls?: { key: string; cert: string },
): Promise<TestOpenAIStub> {
  const abortWaiters: (() => void)[] = [];
  const stub: TestOpenAIStub = {
    name,
    url: '',
    port: 0,
    requests: [],
    aborted: 0,
    behavior: { mode: 'ok', tokens: 3, ttftMs: 1, itlMs: 1, ...behavior },
    waitForAbort: (seen = 0) => (stub.aborted > seen ? Promise.resolve() : new Promise((resolve) => abortWaiters.push(resolve))),
    close: async () => undefined,
  };

  const answer = (res: ServerResponse, kind: string, body: Record<string, unknown>): void => {
    const b = stub.behavior;
    const timers: NodeJS.Timeout[] = [];
    res.on('close', () => {
      timers.forEach(clearTimeout);
      if (!res.writableFinished) {
        stub.aborted++;
        abortWaiters.splice(0).forEach((resolve) => resolve());
      }
    });
    if (b.mode === 'error500' || b.mode === 'error400') {
      const status = b.mode === 'error500' ? 500 : 400;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: status === 500 ? `${name} is broken` : 'prompt is too long', type: 'invalid_request_error', code: 'boom', param: null } }));
      return;
    }
    const text = `${name} `;
    if (!body.stream) {
      if (b.mode === 'stall') return;
      timers.push(setTimeout(() => {
        const n = b.tokens;
        const usage = { prompt_tokens: 5, completion_tokens: n, total_tokens: 5 + n };
        const payload = kind === 'chat'
          ? { id: 'stub-1', object: 'chat.completion', created: 1, model: body.model, choices: [{ index: 0, message: { role: 'assistant', content: text.repeat(n) }, finish_reason: 'length' }], usage }
          : { id: 'stub-1', object: 'text_completion', created: 1, model: body.model, choices: [{ index: 0, text: text.repeat(n), finish_reason: 'length' }], usage };
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      }, b.ttftMs));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    if (b.mode === 'stall') return;
    const total = b.mode === 'midstream-drop' ? 2 : b.tokens;
    let sent = 0;
    const tick = (): void => {
      res.write(chunk(kind, text, sent === 0, null));
      sent++;
      if (sent < total) {
        timers.push(setTimeout(tick, b.itlMs));
        return;
      }
      if (b.mode === 'midstream-drop') {
        res.destroy();
        return;
      }
      let tail = chunk(kind, '', false, 'length');
      const options = body.stream_options as { include_usage?: boolean } | undefined;
      if (options?.include_usage) {
        tail += `data: ${JSON.stringify({ id: 'stub-1', object: 'chat.completion.chunk', created: 1, model: 'stub', choices: [], usage: { prompt_tokens: 5, completion_tokens: total, total_tokens: 5 + total } })}\n\n`;
      }
      res.end(b.mode === 'no-done' ? tail : `${tail}data: [DONE]\n\n`);
    };
    timers.push(setTimeout(tick, b.ttftMs));
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : undefined;
      stub.requests.push({ method: req.method ?? '', path, headers: req.headers, body });
      if (req.method === 'GET' && path === '/v1/models') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data: [{ id: name, object: 'model' }] }));
        return;
      }
      const kind = path === '/v1/chat/completions' ? 'chat' : path === '/v1/completions' ? 'text' : undefined;
      if (req.method !== 'POST' || !kind || !body) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"error":{"message":"not found","type":"not_found_error","code":"not_found","param":null}}');
        return;
      }
      answer(res, kind, body);
    });
  };
  const server = tls ? createTlsServer(tls, handle) : createServer(handle);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  stub.port = (server.address() as AddressInfo).port;
  stub.url = `${tls ? 'https' : 'http'}://127.0.0.1:${stub.port}`;
  stub.close = () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return stub;
}

/** The completion requests a stub received (health checks left out). */
export function completionRequests(stub: TestOpenAIStub): ReceivedRequest[] {
  return stub.requests.filter((r) => r.method === 'POST');
}

/**
 * A bench-only OpenAI-compatible backend: fixed time to first token, fixed inter-token gap, a fixed
 * number of tokens. Built for speed so that it is never the bottleneck of a benchmark: every
 * response chunk is serialised once at start, nothing is parsed beyond the request body. Built for
 * timing precision so that benchmarks can compare against the configured times: the writes run on
 * a PreciseTimer (sub-millisecond, where Node's timers run up to a millisecond late), the first token
 * at the request's arrival + ttftMs and token k at that + (k - 1) * itlMs; how late each write ran
 * against its due time is recorded (`writeLateness`). `preciseTimers: false` trades the precision
 * for less CPU, for benchmarks that only need the load.
 *
 * POST /v1/chat/completions and /v1/completions (stream or not; `max_tokens` caps the token count),
 * GET /v1/models.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LatenessHistogram } from '../../src/common/lateness-histogram.js';
import { coarseTimer, now, PreciseTimer, type DeadlineTimer, type PreciseTimeout } from './precise-timer.js';

export interface OpenAIStubOptions {
  ttftMs: number;
  itlMs: number;
  /** Output tokens per response (fewer when the request's max_tokens is smaller). */
  tokens: number;
  host?: string;
  port?: number;
  /**
   * Default true: writes within about 0.1 ms of their due times, at the cost of a thread wake per
   * write (about 20 µs of CPU each here). False: Node's timers, up to a millisecond off, cheaper
   * at many thousand writes a second.
   */
  preciseTimers?: boolean;
}

/** How late the stub's writes ran: milliseconds, p50 and p99 to the 10 µs bin, max to the µs. */
export interface StubLateness {
  count: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
}

const LATENESS_BIN_MS = 0.01;
const LATENESS_BINS = 2000;

const toMicros = (ms: number): number => Math.round(ms * 1000) / 1000;

/** The lateness recorded since the last call; the histogram starts afresh. */
export function takeLateness(h: LatenessHistogram): StubLateness {
  const s = h.summary();
  h.reset();
  return { count: s.count, p50_ms: toMicros(s.p50), p99_ms: toMicros(s.p99), max_ms: toMicros(s.max) };
}

export interface RunningOpenAIStub {
  url: string;
  port: number;
  /** How late the token writes (and non-streamed answers) ran against their due times since the last call. */
  writeLateness(): StubLateness;
  close(): Promise<void>;
}

const MODEL = 'stub-model';
const TOKEN = 'tok ';
const PROMPT_TOKENS = 16;
const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };

interface Frames {
  first: string;
  next: string;
  finish: string;
  usage: (n: number) => string;
}

function frames(kind: 'chat' | 'text'): Frames {
  const created = Math.floor(Date.now() / 1000);
  const base = kind === 'chat'
    ? { id: 'chatcmpl-stub', object: 'chat.completion.chunk', created, model: MODEL }
    : { id: 'cmpl-stub', object: 'text_completion', created, model: MODEL };
  const choice = (delta: Record<string, unknown>, text: string, finish: string | null): unknown =>
    kind === 'chat' ? { index: 0, delta, finish_reason: finish } : { index: 0, text, finish_reason: finish };
  const frame = (value: unknown): string => `data: ${JSON.stringify(value)}\n\n`;
  return {
    first: frame({ ...base, choices: [choice({ role: 'assistant', content: TOKEN }, TOKEN, null)] }),
    next: frame({ ...base, choices: [choice({ content: TOKEN }, TOKEN, null)] }),
    finish: frame({ ...base, choices: [choice({}, '', 'length')] }),
    usage: (n) => frame({ ...base, choices: [], usage: usage(n) }),
  };
}

function usage(n: number): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
  return { prompt_tokens: PROMPT_TOKENS, completion_tokens: n, total_tokens: PROMPT_TOKENS + n };
}

function fullBody(kind: 'chat' | 'text', n: number): string {
  const text = TOKEN.repeat(n);
  const created = Math.floor(Date.now() / 1000);
  return JSON.stringify(kind === 'chat'
    ? { id: 'chatcmpl-stub', object: 'chat.completion', created, model: MODEL, choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'length' }], usage: usage(n) }
    : { id: 'cmpl-stub', object: 'text_completion', created, model: MODEL, choices: [{ index: 0, text, finish_reason: 'length' }], usage: usage(n) });
}

export async function startOpenAIStub(opts: OpenAIStubOptions): Promise<RunningOpenAIStub> {
  const timer: DeadlineTimer = opts.preciseTimers === false ? coarseTimer() : new PreciseTimer();
  const lateness = new LatenessHistogram(LATENESS_BIN_MS, LATENESS_BINS);
  const chat = frames('chat');
  const text = frames('text');
  const usageFrames = new Map<number, { chat: string; text: string }>();
  const usageFrame = (kind: 'chat' | 'text', n: number): string => {
    let cached = usageFrames.get(n);
    if (!cached) usageFrames.set(n, (cached = { chat: chat.usage(n), text: text.usage(n) }));
    return cached[kind];
  };

  const stream = (res: ServerResponse, kind: 'chat' | 'text', n: number, withUsage: boolean): void => {
    const f = kind === 'chat' ? chat : text;
    res.writeHead(200, SSE_HEADERS);
    let sent = 0;
    // Every due time counts from the request's arrival, so a late write does not delay the next.
    let due = now() + opts.ttftMs;
    let pending: PreciseTimeout | undefined;
    const tick = (): void => {
      if (res.destroyed) return;
      lateness.record(now() - due);
      res.write(sent === 0 ? f.first : f.next);
      sent++;
      if (sent < n) {
        due += opts.itlMs;
        pending = timer.at(due, tick);
        return;
      }
      res.end(withUsage ? f.finish + usageFrame(kind, n) + 'data: [DONE]\n\n' : f.finish + 'data: [DONE]\n\n');
    };
    pending = timer.at(due, tick);
    res.on('close', () => pending?.cancel());
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string): void => {
    const url = req.url ?? '/';
    if (req.method === 'GET' && url === '/v1/models') {
      const body = JSON.stringify({ object: 'list', data: [{ id: MODEL, object: 'model', created: 0, owned_by: 'stub' }] });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    const kind = url === '/v1/chat/completions' ? 'chat' : url === '/v1/completions' ? 'text' : undefined;
    if (req.method !== 'POST' || !kind) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"not found","type":"not_found_error","code":"not_found","param":null}}');
      return;
    }
    let body: { stream?: boolean; max_tokens?: number; stream_options?: { include_usage?: boolean } };
    try {
      body = JSON.parse(raw) as typeof body;
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"invalid JSON","type":"invalid_request_error","code":"invalid_json","param":null}}');
      return;
    }
    const n = Math.max(1, typeof body.max_tokens === 'number' ? Math.min(body.max_tokens, opts.tokens) : opts.tokens);
    if (body.stream) {
      stream(res, kind, n, body.stream_options?.include_usage === true);
      return;
    }
    const due = now() + opts.ttftMs + opts.itlMs * (n - 1);
    const pending = timer.at(due, () => {
      lateness.record(now() - due);
      const payload = fullBody(kind, n);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
      res.end(payload);
    });
    res.on('close', () => pending.cancel());
  };

  const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => handle(req, res, raw));
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    port,
    writeLateness: () => takeLateness(lateness),
    close: async () => {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      await timer.close();
    },
  };
}

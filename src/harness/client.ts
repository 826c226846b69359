/**
 * One streaming request over an undici dispatcher, timed on the run clock. Every outcome becomes a
 * RequestRecord: a complete stream is `ok`; anything else is an error of a stable kind, never a throw.
 */
import type { Dispatcher } from 'undici';
import { SseParser } from '../protocol/index.js';
import { ExpertRouterError } from '../common/errors.js';
import type { ProtocolAdapter, RequestSettings } from './protocols.js';
import { round3 } from './stats.js';
import type { ErrorKind, Prompt, RequestRecord } from './types.js';

export interface SendSpec {
  dispatcher: Dispatcher;
  /** The target's origin (needed by an Agent; a Client is bound to its own). */
  origin: string;
  /** Path prefix of the target URL (e.g. '' or '/mode/x'), prepended to the protocol's path. */
  basePath: string;
  adapter: ProtocolAdapter;
  settings: RequestSettings;
  prompt: Prompt;
  /** The expert this request was routed to by the client, when the response names none. */
  expert?: string;
  headers?: Record<string, string>;
  id: number;
  level: number;
  user?: number;
  scheduled_ms?: number;
  warmup?: boolean;
  /** Milliseconds on the run clock. */
  clock: () => number;
  /** In-flight requests register a cancel function here while they run (used to end a level). */
  inflight?: Set<() => void>;
}

/** A failure found by the client itself (a bad stream), carried through undici's abort as the reason. */
class StreamFault extends ExpertRouterError<ErrorKind> {}

const MAX_ERROR_BODY = 4096;

/** Maps a transport error to its kind; `answered` says whether response headers had arrived. */
export function classifyError(err: unknown, answered: boolean): { kind: ErrorKind; message: string } {
  if (err instanceof StreamFault) return { kind: err.code, message: err.message };
  const e = err as { code?: string; message?: string; errors?: unknown[] };
  // Happy-eyeballs connects fail with an AggregateError holding one error per address.
  const code = e.code ?? (Array.isArray(e.errors) ? (e.errors[0] as { code?: string } | undefined)?.code : undefined);
  const message = e.message || code || String(err);
  switch (code) {
    case 'ECONNREFUSED':
      return { kind: 'connect_refused', message };
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return { kind: answered ? 'truncated_stream' : 'connect_reset', message };
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return { kind: 'stall_timeout', message };
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return { kind: 'connect_timeout', message };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { kind: 'dns_failure', message };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return { kind: 'unreachable', message };
    case 'UND_ERR_ABORTED':
      return { kind: 'cancelled', message };
    default:
      return { kind: 'client_error', message };
  }
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function httpErrorMessage(status: number, body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    const e = parsed.error;
    if (typeof e === 'string') return `HTTP ${status}: ${e}`;
    const m = (e as { message?: unknown } | undefined)?.message;
    if (typeof m === 'string') return `HTTP ${status}: ${m}`;
  } catch {
    // not JSON: fall through to the raw text
  }
  return `HTTP ${status}${body ? `: ${body.slice(0, 200)}` : ''}`;
}

export function sendRequest(spec: SendSpec): Promise<RequestRecord> {
  return new Promise((resolve) => {
    const { adapter, clock } = spec;
    const record: RequestRecord = {
      id: spec.id,
      level: spec.level,
      ...(spec.user !== undefined ? { user: spec.user } : {}),
      ...(spec.scheduled_ms !== undefined ? { scheduled_ms: spec.scheduled_ms } : {}),
      dispatched_ms: 0,
      sent_ms: 0,
      chunk_times_ms: [],
      end_ms: 0,
      output_tokens: 0,
      tokens_source: 'counted',
      status: 'ok',
      ...(spec.expert !== undefined ? { expert: spec.expert } : {}),
      ...(spec.warmup ? { warmup: true } : {}),
    };
    const parser = new SseParser();
    let controller: Dispatcher.DispatchController | undefined;
    let answered = false;
    let httpError = false;
    let errorBody = '';
    let done = false;
    let counted = 0;
    let usageTokens: number | undefined;
    let settled = false;
    const cancel = (): void => {
      const reason = new StreamFault('cancelled', 'cancelled at the end of the level');
      if (controller) controller.abort(reason);
      else finish(reason.code, reason.message);
    };

    const finish = (kind?: ErrorKind, message?: string): void => {
      if (settled) return;
      settled = true;
      spec.inflight?.delete(cancel);
      record.end_ms = round3(clock());
      record.output_tokens = usageTokens ?? counted;
      record.tokens_source = usageTokens !== undefined ? 'usage' : 'counted';
      if (record.chunk_times_ms.length > 0) record.ttft_ms = round3(record.sent_ms + record.chunk_times_ms[0] - (record.scheduled_ms ?? record.sent_ms));
      if (kind) {
        record.status = 'error';
        record.error_kind = kind;
        if (message) record.error_message = message;
      }
      resolve(record);
    };

    const fail = (kind: ErrorKind, message: string): void => {
      if (controller && !controller.aborted) controller.abort(new StreamFault(kind, message));
      else finish(kind, message);
    };

    const handler: Dispatcher.DispatchHandler = {
      // undici calls this as it writes the request to the socket: on a new connection once it is
      // up, on a reused one a loop phase or more after the dispatch. The actual send time.
      onRequestStart(c) {
        controller = c;
        record.sent_ms = round3(clock());
      },
      onResponseStart(_c, statusCode, headers) {
        answered = true;
        record.http_status = statusCode;
        const expert = header(headers, 'x-expert-router-expert');
        const cluster = header(headers, 'x-expert-router-cluster');
        if (expert !== undefined) record.expert = expert;
        if (cluster !== undefined) record.cluster = cluster;
        if (statusCode < 200 || statusCode >= 300) {
          httpError = true;
          return;
        }
        const type = header(headers, 'content-type') ?? '';
        if (!type.includes('text/event-stream')) fail('malformed_sse', `expected text/event-stream, got '${type || 'no content-type'}'`);
      },
      onResponseData(_c, chunk) {
        if (settled) return;
        if (httpError) {
          if (errorBody.length < MAX_ERROR_BODY) errorBody += chunk.toString('utf8');
          return;
        }
        const at = clock();
        for (const event of parser.push(chunk)) {
          if (done) {
            fail('malformed_sse', 'data after the end of the stream');
            return;
          }
          const result = adapter.read(event);
          if (result.malformed) return fail('malformed_sse', result.malformed);
          if (result.error) return fail('stream_error', result.error);
          if (result.done) done = true;
          if (result.text) {
            counted++;
            record.chunk_times_ms.push(round3(at - record.sent_ms));
          }
          if (result.completionTokens !== undefined) usageTokens = result.completionTokens;
          if (result.promptTokens !== undefined) record.prompt_tokens = result.promptTokens;
        }
      },
      onResponseEnd() {
        if (httpError) return finish(`http_${record.http_status ?? 0}`, httpErrorMessage(record.http_status ?? 0, errorBody));
        if (parser.pending.trim() !== '') return finish('truncated_stream', 'the stream ended inside an SSE event');
        if (adapter.terminated && !done) return finish('truncated_stream', 'the stream ended without [DONE]');
        finish();
      },
      onResponseError(_c, err) {
        const { kind, message } = classifyError(err, answered);
        finish(kind, message);
      },
    };

    // Everything is built before the dispatch, so serialisation does not count as latency.
    const options: Dispatcher.DispatchOptions = {
      origin: spec.origin,
      method: 'POST',
      path: spec.basePath + adapter.path(spec.settings.model),
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...spec.headers },
      body: adapter.body(spec.prompt, spec.settings),
    };
    spec.inflight?.add(cancel);
    // The send time until the write replaces it (it stays for a request that fails before its write).
    record.dispatched_ms = record.sent_ms = round3(clock());
    try {
      spec.dispatcher.dispatch(options, handler);
    } catch (err) {
      const { kind, message } = classifyError(err, false);
      finish(kind, message);
    }
  });
}

/**
 * The upstream transport on undici's Pool.dispatch with a handler of its own: frames are relayed as
 * undici decodes them, `headersTimeout` and `bodyTimeout` are off (the exchange keeps the
 * first-byte, idle and total timers for both transports), one request per connection. undici's
 * parser is llhttp; the status range the gateway accepts (100-599) is checked here. undici never
 * re-sends a POST by itself, so here too the exchange decides the one retry.
 */
import { Pool, type Dispatcher } from 'undici';
import { TransportError } from './errors.js';
import { assertRequestHeaders } from './request-headers.js';
import type { ResponseHeaders, TransportControl, TransportHandler, TransportOptions, TransportRequest, UpstreamTransport } from './types.js';

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

const REFUSED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN']);

/** undici's error as a TransportError; `answered`: a response head came. */
function transportError(err: Error, answered: boolean): TransportError {
  if (err instanceof TransportError) return err;
  const code = (err as { code?: string }).code ?? '';
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return new TransportError('connect_timeout', `connect timed out: ${err.message}`, { cause: err });
  if (REFUSED.has(code)) return new TransportError('connect_refused', `connection refused: ${err.message}`, { cause: err });
  if (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || /certificate/i.test(err.message)) return new TransportError('tls_failed', `TLS failed: ${err.message}`, { cause: err });
  if (code.startsWith('HPE_') || code === 'UND_ERR_INFO' || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') return new TransportError('bad_response', `bad response: ${err.message}`, { cause: err });
  if (code === 'UND_ERR_CLOSED' || code === 'UND_ERR_DESTROYED') return new TransportError('transport_closed', err.message, { cause: err });
  return new TransportError('connection_closed', answered ? `connection closed before the end of the answer: ${err.message}` : `connection closed without an answer: ${err.message}`, { cause: err });
}

function flatHeaders(headers: Record<string, string | string[] | undefined>): ResponseHeaders {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

class UndiciCall implements TransportControl, Dispatcher.DispatchHandler {
  aborted = false;
  private finished = false;
  private answered = false;
  private paused = false;
  private controller: Dispatcher.DispatchController | undefined;

  constructor(private readonly handler: TransportHandler) {}

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.finished) controller.abort(new Error('aborted'));
    else if (this.paused) controller.pause();
  }

  onResponseStart(controller: Dispatcher.DispatchController, status: number, headers: Record<string, string | string[] | undefined>): void {
    if (this.finished) return;
    this.answered = true;
    if (status < 100 || status > 599) {
      const err = new TransportError('bad_response', `status code ${status} is outside 100-599`);
      controller.abort(err);
      this.fail(err);
      return;
    }
    this.handler.onStart(status, flatHeaders(headers));
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.finished) this.handler.onData(chunk, undefined, false);
  }

  onResponseEnd(): void {
    if (this.finished) return;
    this.finished = true;
    this.handler.onEnd();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.fail(transportError(err, this.answered));
  }

  fail(err: TransportError): void {
    if (this.finished) return;
    this.finished = true;
    this.handler.onError(err);
  }

  abort(reason: Error): void {
    if (this.finished || this.aborted) return;
    this.aborted = true;
    // The handler hears of the abort first: undici's own error for it, which follows, is then ignored.
    this.fail(reason instanceof TransportError ? reason : new TransportError('transport_closed', reason.message, { cause: reason }));
    this.controller?.abort(reason);
  }

  pause(): void {
    this.paused = true;
    this.controller?.pause();
  }

  resume(): void {
    this.paused = false;
    this.controller?.resume();
  }
}

export class UndiciTransport implements UpstreamTransport {
  private readonly pool: Pool;
  private closing = false;

  constructor(readonly origin: string, opts: TransportOptions) {
    const url = new URL(origin);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`upstream '${origin}' is not http or https`);
    this.pool = new Pool(url.origin, {
      connections: opts.connections ?? null,
      pipelining: 1,
      keepAliveTimeout: opts.keepAliveMs,
      keepAliveMaxTimeout: opts.keepAliveMs,
      headersTimeout: 0,
      bodyTimeout: 0,
      connect: { timeout: opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS },
    });
  }

  get connections(): number {
    return this.pool.stats.connected;
  }

  request(request: TransportRequest, handler: TransportHandler): TransportControl {
    const call = new UndiciCall(handler);
    if (this.closing) {
      call.fail(new TransportError('transport_closed', 'the connection pool is closed'));
      return call;
    }
    try {
      assertRequestHeaders(request.headers);
    } catch (err) {
      call.fail(err as TransportError);
      return call;
    }
    this.pool.dispatch({ path: request.path, method: request.method, headers: request.headers as Record<string, string>, body: request.body }, call);
    return call;
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.pool.destroy();
  }
}

/**
 * One forwarded request: sends it to a replica over its upstream transport, relays the answer to
 * the client as it arrives, and turns every failure into the right ending:
 * - one retry at most, on another replica, and only when nothing can have reached a model
 *   (refused, connect timeout, a stale keep-alive connection) or on 503/429 with Retry-After before
 *   the first byte; never after a response byte, never for the gateway's own exceptions (500
 *   internal_error, logged);
 * - no first byte within the expert's timeout_ms, no byte for idle_timeout_ms, or past deadline_ms:
 *   504 before the first byte, an SSE error event after it; the upstream is closed;
 * - after the first byte of a stream: an SSE error event, then the end (never a clean [DONE]);
 * - a client that reads nothing for the send timeout is cut off and the upstream closed;
 * - client gone: the upstream request is aborted at once.
 * What the upstream said never reaches the client: the gateway writes every message, the upstream's
 * detail goes to the log with secrets redacted. Response headers go out with the first upstream
 * byte, so failures before it can still be answered with a proper status and JSON error body.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { redactSecrets, upstreamDetail, type BackendCall, type StreamRelay, type TokenUsage, type UpstreamRequest } from '../backends/index.js';
import { CIRCUIT_STATE_VALUE, type Replica, type ReplicaOutcome } from '../balancer/index.js';
import { TRANSPORT_DEFAULTS } from '../config/index.js';
import { ApiError, ERROR_CODES, RateLimitedWarning, SSE_HEADERS, chunkSocket, sseError, toApiError } from '../protocol/index.js';
import type { ResponseHeaders, TransportControl, TransportError, TransportHandler } from '../transport/index.js';
import type { GatewayMetrics, ReplicaSeries } from '../telemetry/metrics.js';
import type { ExpertRuntime } from './expert-router.js';
import { CLUSTER_HEADER, EXPERT_HEADER, REPLICA_HEADER, serverTiming } from './headers.js';

/** Status recorded for a request whose client went away before the end (nginx's convention). */
const CLIENT_CLOSED = 499;
/** Error bodies from upstream are read up to this size (the rest is dropped). */
const ERROR_BODY_LIMIT = 64 * 1024;
/** Slow clients cut off: logged once, then at most once a minute with a count. */
const slowClients = new RateLimitedWarning('clients cut off for not reading their answer (send timeout)');

export interface ExchangeInit {
  res: ServerResponse;
  req: IncomingMessage;
  endpoint: string;
  expert: ExpertRuntime;
  cluster: string;
  call: BackendCall;
  upstream: UpstreamRequest;
  metrics: GatewayMetrics;
  logger: Logger;
  /** performance.now() when the request arrived. */
  startedAt: number;
  classifyMs: number;
  /** Called once when the exchange ends, whatever the outcome (frees the admission slot); `end` says how it went. */
  onDone: (end: ExchangeEnd) => void;
  /** Upstream headers of this request alone, sent after the expert's own (x-request-id, traceparent). */
  requestHeaders?: Record<string, string>;
  /** Name the replica in x-expert-router-replica (the config's expose_topology). */
  exposeTopology?: boolean;
  /** More response headers, as a flat [name, value, ...] list (request id, routing reason). */
  responseHeaders?: readonly string[];
  /** A client that reads nothing of its answer for this long is cut off (default: TRANSPORT_DEFAULTS.sendTimeoutMs). */
  sendTimeoutMs?: number;
}

/** How an exchange ended, for the access log and the caller's token limits. */
export interface ExchangeEnd {
  status: number;
  /** The replica of the last try. */
  replica: string | undefined;
  /** Arrival to the response's first byte for the client (headers with the first upstream byte). */
  ttftMs: number | undefined;
  /** The stable code of the failure, if it failed. */
  errorCode: string | undefined;
  usage: TokenUsage | undefined;
}

type Mode = 'waiting' | 'error-body' | 'body' | 'stream';

function uncork(socket: Socket): void {
  socket.uncork();
}

/** Seconds of a Retry-After value (delta-seconds or an HTTP-date), or undefined when absent or unreadable. */
export function retryAfterSeconds(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d{1,9}$/.test(value)) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - Date.now()) / 1000);
}

/**
 * One try against one replica; events of a superseded try are ignored. An exception thrown while
 * handling an upstream event is the gateway's own failure: 500 internal_error, logged, never retried.
 */
class Attempt implements TransportHandler {
  control: TransportControl | undefined;

  constructor(private readonly exchange: Exchange, readonly replica: Replica, readonly series: ReplicaSeries) {}

  onStart(statusCode: number, headers: ResponseHeaders): void {
    if (!this.exchange.isCurrent(this)) {
      this.abort(new Error('request no longer needed'));
      return;
    }
    try {
      this.exchange.onStatus(statusCode, headers);
    } catch (err) {
      this.exchange.internalFailure(err);
    }
  }

  onData(data: Buffer, framed: Buffer | undefined, more: boolean): void {
    if (!this.exchange.isCurrent(this)) return;
    try {
      this.exchange.onData(data, framed, more);
    } catch (err) {
      this.exchange.internalFailure(err);
    }
  }

  onEnd(): void {
    if (!this.exchange.isCurrent(this)) return;
    try {
      this.exchange.onEnd();
    } catch (err) {
      this.exchange.internalFailure(err);
    }
  }

  onError(error: TransportError): void {
    if (!this.exchange.isCurrent(this)) return;
    try {
      this.exchange.onUpstreamError(error);
    } catch (err) {
      this.exchange.internalFailure(err);
    }
  }

  abort(reason: Error): void {
    if (this.control && !this.control.aborted) this.control.abort(reason);
  }
}

export class Exchange {
  /** The try in progress; it holds the replica's in-flight count until released. */
  private attempt: Attempt | undefined;
  /** The latest try, for labels after it was released. */
  private last: Attempt | undefined;
  private attempts = 0;
  private mode: Mode = 'waiting';
  private status = 0;
  private retryAfter: number | undefined;
  private chunks: Buffer[] = [];
  private bodySize = 0;
  private relay: StreamRelay | undefined;
  /** One timer for every limit (first byte, idle, total deadline, client send); it re-arms itself for the nearest. */
  private timer: NodeJS.Timeout | undefined;
  private timerAt = 0;
  private finished = false;
  private forwardedAt = 0;
  /** performance.now() of the latest upstream byte (0: none yet in this try). */
  private lastByteAt = 0;
  /** performance.now() when the upstream was paused for a client that does not read (0: not paused). */
  private pausedAt = 0;
  private usage: TokenUsage | undefined;
  /** Upstream reading is paused until the client's socket drains. */
  private paused = false;
  private errorCode: string | undefined;
  /** performance.now() when the response headers went out (0: not yet). */
  private headersAt = 0;

  constructor(private readonly x: ExchangeInit) {}

  private get sendTimeoutMs(): number {
    return this.x.sendTimeoutMs ?? TRANSPORT_DEFAULTS.sendTimeoutMs;
  }

  start(): void {
    const { res } = this.x;
    this.forwardedAt = performance.now();
    if (res.destroyed || this.x.req.socket.destroyed) {
      // The client left while the request waited for an admission slot.
      this.clientGone();
      return;
    }
    res.on('close', () => {
      if (!this.finished) this.clientGone();
    });
    const pool = this.x.expert.pool;
    const replica = pool.pick();
    if (!replica) {
      if (pool.circuitOpen) this.fail(new ApiError('circuit_open', `expert '${this.x.expert.config.name}' has every replica out of rotation after repeated failures`, { retryAfterS: Math.max(1, Math.ceil(pool.retryAfterMs() / 1000)) }));
      else this.fail(new ApiError('no_healthy_replica', `expert '${this.x.expert.config.name}' has no healthy replica`));
      return;
    }
    this.launch(replica);
    this.arm();
  }

  /** Ends the exchange now with this error (a drain deadline): a JSON error or an SSE error event. */
  end(err: ApiError): void {
    if (!this.finished) this.fail(err);
  }

  isCurrent(attempt: Attempt): boolean {
    return !this.finished && this.attempt === attempt;
  }

  private launch(replica: Replica): void {
    const series = this.x.expert.series.get(replica.url)!;
    const attempt = new Attempt(this, replica, series);
    this.attempt = attempt;
    this.last = attempt;
    this.attempts++;
    this.mode = 'waiting';
    this.lastByteAt = 0;
    replica.inFlight++;
    series.inFlight.inc();
    attempt.control = replica.transport.request({ method: 'POST', path: this.x.upstream.path, body: this.x.upstream.body, headers: this.x.expert.upstreamHeaders, requestHeaders: this.x.requestHeaders }, attempt);
  }

  /** Ends the current attempt's accounting (not the upstream request itself). */
  private releaseAttempt(): Attempt | undefined {
    const attempt = this.attempt;
    if (!attempt) return undefined;
    this.attempt = undefined;
    attempt.replica.inFlight--;
    attempt.series.inFlight.dec();
    return attempt;
  }

  /** Tells the expert's pool what the try said about its replica, and updates the replica's gauges. */
  private report(attempt: Attempt | undefined, outcome: ReplicaOutcome): void {
    if (!attempt) return;
    const pool = this.x.expert.pool;
    const event = pool.report(attempt.replica, outcome);
    if (event) this.x.logger.warn({ expert: this.x.expert.config.name, replica: attempt.replica.url, event }, event === 'ejected' ? 'replica ejected (consecutive 5xx or timeouts)' : event === 'circuit_open' ? 'replica circuit opened (consecutive transport failures)' : 'replica circuit closed');
    const now = performance.now();
    attempt.series.circuit.set(CIRCUIT_STATE_VALUE[attempt.replica.circuit(now)]);
    attempt.series.ejected.set(attempt.replica.outlier.ejected(now) ? 1 : 0);
  }

  onStatus(status: number, headers: ResponseHeaders): void {
    const attempt = this.attempt!;
    // The first-token limit runs until the first byte of the body; the idle limit from there on.
    this.status = status;
    const replica = attempt.replica;
    if (!replica.answered || !replica.up) {
      replica.markUp();
      attempt.series.up.set(1);
    }
    this.report(attempt, status >= 500 ? 'server_failure' : 'success');
    if (status < 200 || status >= 300) {
      this.retryAfter = retryAfterSeconds(headers['retry-after']);
      // An upstream that says "busy, come back later" before any byte of an answer: another replica may take it.
      if ((status === 503 || status === 429) && this.retryAfter !== undefined && this.retryAgain(attempt, false)) return;
      this.mode = 'error-body';
    } else if (this.x.call.stream) {
      this.mode = 'stream';
      this.relay = this.x.expert.backend.streamRelay(this.x.call);
    } else this.mode = 'body';
  }

  onData(chunk: Buffer, framed: Buffer | undefined, more: boolean): void {
    if (this.lastByteAt === 0) {
      // The first body byte: from now on the idle limit, which may run out before the first-token one.
      this.lastByteAt = performance.now();
      this.arm();
    } else this.lastByteAt = performance.now();
    if (this.mode !== 'stream') {
      if (this.mode === 'body' || this.bodySize < ERROR_BODY_LIMIT) {
        this.chunks.push(chunk);
        this.bodySize += chunk.length;
      }
      return;
    }
    const { res } = this.x;
    let out: Buffer | string | null;
    try {
      out = this.relay!.data(chunk);
    } catch (err) {
      // Before anything was sent this is still a clean error answer; after, an SSE error event.
      this.fail(this.upstreamFault(err));
      return;
    }
    if (out === null) return;
    let flushed: boolean;
    let drains: NodeJS.EventEmitter = res;
    const direct = out === chunk && framed ? chunkSocket(res) : null;
    if (direct && framed) {
      // The client's answer is chunked too: the upstream's frame (canonical, checked by the
      // transport) is already what it must receive, so it goes to the socket as it came (no
      // re-framing by node:http). When more of the same read follows (frames, the end of the
      // response), the socket is corked to the end of this tick so that they leave in one write.
      if (more && !direct.writableCorked) {
        direct.cork();
        process.nextTick(uncork, direct);
      }
      flushed = direct.write(framed);
      drains = direct;
    } else {
      // Headers go out with the first bytes for the client, so a failure before them is a JSON error.
      if (!res.headersSent) this.sendHeaders(SSE_HEADERS);
      flushed = res.write(out);
    }
    // node:http corks the socket until the next tick after its writes; with nothing more in this
    // read, the token should not wait for that (on an idle process the wait is ~0.1 ms).
    if (!more && res.socket?.writableCorked) res.socket.uncork();
    if (!flushed && !this.paused) {
      // The client reads slower than the expert writes: stop reading upstream until it drains
      // (for at most the send timeout).
      const control = this.attempt!.control!;
      this.paused = true;
      this.pausedAt = performance.now();
      control.pause();
      drains.once('drain', () => {
        this.paused = false;
        this.pausedAt = 0;
        this.lastByteAt = performance.now();
        control.resume();
      });
      this.arm();
    }
  }

  onEnd(): void {
    const backend = this.x.expert.backend;
    if (this.mode === 'waiting') throw new Error('upstream answer ended before its head');
    if (this.mode === 'error-body') {
      const err = backend.upstreamError(this.status, this.retryAfter);
      this.x.logger.warn({ expert: this.x.expert.config.name, replica: this.attempt?.replica.url, status: this.status, detail: upstreamDetail(Buffer.concat(this.chunks)) }, 'expert answered an error');
      this.chunks = [];
      this.fail(err);
      return;
    }
    if (this.mode === 'body') {
      let adapted;
      try {
        adapted = backend.response(this.x.call, Buffer.concat(this.chunks, this.bodySize));
      } catch (err) {
        this.fail(this.upstreamFault(err));
        return;
      }
      this.chunks = [];
      this.usage = adapted.usage;
      const body = adapted.body;
      this.sendHeaders({ 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
      this.x.res.end(body);
      this.finish(200);
      return;
    }
    let tail: Buffer | string | null;
    try {
      tail = this.relay!.end();
    } catch (err) {
      this.fail(this.upstreamFault(err));
      return;
    }
    this.usage = this.relay!.usage;
    if (!this.x.res.headersSent) this.sendHeaders(SSE_HEADERS);
    if (tail !== null) this.x.res.end(tail);
    else this.x.res.end();
    this.finish(200);
  }

  onUpstreamError(error: TransportError): void {
    const attempt = this.attempt!;
    const replica = attempt.replica;
    const name = this.x.expert.config.name;
    this.x.logger.warn({ expert: name, replica: replica.url, code: error.code, detail: redactSecrets(error.message) }, 'upstream request failed');
    if (error.code === 'invalid_request_header') {
      this.internalFailure(error);
      return;
    }
    if (error.code === 'connect_refused') {
      replica.markDown();
      attempt.series.up.set(0);
    }
    this.report(attempt, error.code === 'stale_connection' || error.code === 'transport_closed' ? 'neutral' : 'transport_failure');
    if (this.x.res.headersSent) {
      this.fail(new ApiError('upstream_stream_error', `expert '${name}' failed mid-stream (the connection broke)`, { cause: error }));
      return;
    }
    if (error.replayable && !attempt.control?.aborted && this.retryAgain(attempt, error.code === 'stale_connection')) return;
    this.fail(error.code === 'bad_response' || (error.code === 'connection_closed' && this.mode !== 'waiting')
      ? new ApiError('upstream_bad_response', `expert '${name}' sent a broken answer`, { cause: error })
      : new ApiError('upstream_unreachable', `expert '${name}' could not be reached`, { cause: error }));
  }

  /**
   * The one retry of an exchange: only before any byte went to the client and only on another
   * replica (for a stale keep-alive connection, the same replica on a fresh connection when it is
   * the only one). False when it cannot be made.
   */
  private retryAgain(failed: Attempt, sameAllowed: boolean): boolean {
    if (this.attempts !== 1 || this.x.res.headersSent) return false;
    const other = this.x.expert.pool.pick(failed.replica) ?? (sameAllowed && failed.replica.available(performance.now()) ? failed.replica : undefined);
    if (!other) return false;
    this.releaseAttempt();
    failed.abort(new Error('retried on another replica'));
    this.x.metrics.retry(this.x.expert.config.name);
    this.chunks = [];
    this.bodySize = 0;
    this.retryAfter = undefined;
    this.launch(other);
    return true;
  }

  /** A fault found in the upstream's answer by the backend (an ApiError), or the gateway's own bug. */
  private upstreamFault(err: unknown): ApiError {
    if (err instanceof ApiError) {
      if (err.cause !== undefined) this.x.logger.warn({ expert: this.x.expert.config.name, replica: this.last?.replica.url, code: err.code, detail: redactSecrets(String((err.cause as Error).message ?? err.cause)) }, 'expert answered an error');
      return err;
    }
    this.x.logger.error({ err, expert: this.x.expert.config.name }, 'gateway failed while relaying an answer');
    return toApiError(err);
  }

  /** An exception in the gateway's own handling of an upstream event: 500 internal_error, logged, not retried. */
  internalFailure(err: unknown): void {
    if (this.finished) return;
    this.x.logger.error({ err, expert: this.x.expert.config.name }, 'gateway failed while handling an upstream answer');
    this.fail(new ApiError('internal_error', 'internal error while relaying the answer', { cause: err }));
  }

  /** Arms the one timer for the nearest limit. */
  private arm(): void {
    if (this.finished) return;
    const at = this.nextLimit();
    if (this.timer !== undefined && this.timerAt <= at) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.onTimer(), Math.max(1, at - performance.now()));
  }

  /** When the nearest limit runs out: first byte, idle, total deadline or the client's send timeout. */
  private nextLimit(): number {
    const cfg = this.x.expert.config;
    let at = this.paused ? this.pausedAt + this.sendTimeoutMs : this.lastByteAt === 0 ? this.forwardedAt + cfg.timeout_ms : this.lastByteAt + cfg.idle_timeout_ms;
    if (cfg.deadline_ms !== undefined) at = Math.min(at, this.forwardedAt + cfg.deadline_ms);
    return at;
  }

  private onTimer(): void {
    this.timer = undefined;
    if (this.finished) return;
    const now = performance.now();
    const cfg = this.x.expert.config;
    const name = cfg.name;
    if (cfg.deadline_ms !== undefined && now - this.forwardedAt >= cfg.deadline_ms) {
      this.timedOut(new ApiError('upstream_deadline', `expert '${name}' did not finish within the deadline of ${cfg.deadline_ms} ms`), 'neutral');
    } else if (this.paused) {
      if (now - this.pausedAt >= this.sendTimeoutMs) return this.clientTooSlow();
    } else if (this.lastByteAt === 0) {
      if (now - this.forwardedAt >= cfg.timeout_ms) return this.timedOut(new ApiError('upstream_timeout', `expert '${name}' sent no first token within ${cfg.timeout_ms} ms`), 'server_failure');
    } else if (now - this.lastByteAt >= cfg.idle_timeout_ms) {
      return this.timedOut(new ApiError('upstream_idle_timeout', `expert '${name}' sent nothing for ${cfg.idle_timeout_ms} ms`), 'server_failure');
    }
    this.arm();
  }

  private timedOut(err: ApiError, outcome: ReplicaOutcome): void {
    this.report(this.attempt, outcome);
    this.fail(err);
  }

  /** The client read nothing for the send timeout: the upstream is closed, the slot freed, the client cut off. */
  private clientTooSlow(): void {
    const attempt = this.releaseAttempt();
    this.report(attempt, 'neutral');
    attempt?.abort(new Error('client stopped reading'));
    slowClients.warn(this.x.logger, { expert: this.x.expert.config.name, send_timeout_ms: this.sendTimeoutMs });
    this.errorCode = 'client_send_timeout';
    this.x.metrics.error(this.x.expert.config.name, 'client_send_timeout');
    this.x.res.destroy();
    this.finish(ERROR_CODES.client_send_timeout.status);
  }

  private clientGone(): void {
    const attempt = this.releaseAttempt();
    this.report(attempt, 'neutral');
    attempt?.abort(new Error('client closed the connection'));
    this.errorCode = 'client_closed';
    this.x.metrics.error(this.x.expert.config.name, 'client_closed');
    this.finish(CLIENT_CLOSED);
  }

  /** Answers with an error: a JSON body when nothing was sent yet, else an SSE error event. */
  private fail(err: ApiError): void {
    if (this.finished) return;
    if (this.x.res.headersSent) {
      this.streamFailed(err);
      return;
    }
    const attempt = this.releaseAttempt();
    attempt?.abort(err);
    const body = JSON.stringify(err.toBody());
    const headers: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) };
    if (err.retryAfterS !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(err.retryAfterS)));
    this.sendHeaders(headers, err.status);
    this.x.res.end(body);
    this.errorCode = err.code;
    this.x.metrics.error(this.x.expert.config.name, err.code);
    this.finish(err.status);
  }

  /** A stream that fails midway: an SSE error event, and the metrics record the error's status, not 200. */
  private streamFailed(err: ApiError): void {
    const attempt = this.releaseAttempt();
    attempt?.abort(err);
    this.usage = this.relay?.usage;
    this.x.res.end(sseError(err.toBody()));
    this.errorCode = err.code;
    this.x.metrics.error(this.x.expert.config.name, err.code);
    this.finish(err.status);
  }

  private sendHeaders(headers: Record<string, string>, status = 200): void {
    const x = this.x;
    const attempt = this.last;
    // A flat [name, value, ...] list: node:http takes it as is, with no object to build or walk.
    const list = [EXPERT_HEADER, x.expert.config.name, CLUSTER_HEADER, x.cluster, 'server-timing', serverTiming(this.forwardedAt - x.startedAt, x.classifyMs)];
    if (attempt && x.exposeTopology) list.push(REPLICA_HEADER, attempt.replica.url);
    if (x.responseHeaders) for (const item of x.responseHeaders) list.push(item);
    for (const name in headers) list.push(name, headers[name]);
    x.res.writeHead(status, list);
    this.headersAt = performance.now();
    if (status === 200 && attempt) attempt.series.ttft.observe((performance.now() - x.startedAt) / 1000);
  }

  /** Once per exchange: metrics, the replica's and the expert's accounting. */
  private finish(status: number): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    this.releaseAttempt();
    const x = this.x;
    const attempt = this.last;
    const replica = attempt?.replica.url ?? 'none';
    x.metrics.request(x.expert.config.name, replica, x.endpoint, status);
    if (attempt) {
      attempt.series.duration.observe((performance.now() - x.startedAt) / 1000);
      if (this.usage?.prompt) attempt.series.promptTokens.inc(this.usage.prompt);
      if (this.usage?.completion) attempt.series.completionTokens.inc(this.usage.completion);
    }
    x.onDone({ status, replica: attempt?.replica.url, ttftMs: this.headersAt ? this.headersAt - x.startedAt : undefined, errorCode: this.errorCode, usage: this.usage });
  }
}

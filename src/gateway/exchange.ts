/**
 * One forwarded request: sends it to a replica over its pooled connection, relays the answer to the
 * client as it arrives, and turns every failure into the right ending:
 * - before the first upstream byte: one retry on another replica of the expert, then 502;
 * - no first byte within the expert's timeout_ms: 504;
 * - after the first byte of a stream: an SSE error event, then the end (never a clean [DONE]);
 * - client gone: the upstream request is aborted at once.
 * Response headers go out with the first upstream byte, so failures before it can still be answered
 * with a proper status and JSON error body.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { BackendCall, StreamRelay, TokenUsage, UpstreamRequest } from '../backends/index.js';
import type { Replica, UpstreamControl, UpstreamHandler } from '../balancer/index.js';
import { ApiError, SSE_HEADERS, chunkSocket, sseError, toApiError } from '../protocol/index.js';
import type { GatewayMetrics, ReplicaSeries } from '../telemetry/metrics.js';
import type { ExpertRuntime } from './expert-router.js';
import { CLUSTER_HEADER, EXPERT_HEADER, REPLICA_HEADER, serverTiming } from './headers.js';

/** Status recorded for a request whose client went away before the end (nginx's convention). */
const CLIENT_CLOSED = 499;
/** Error bodies from upstream are read up to this size (the rest is dropped). */
const ERROR_BODY_LIMIT = 64 * 1024;

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
  /** Headers of the upstream request (default: the expert's); the gateway adds x-request-id and traceparent. */
  upstreamHeaders?: Record<string, string>;
  /** Name the replica in x-expert-router-replica (the config's expose_topology). */
  exposeTopology?: boolean;
  /** More response headers, as a flat [name, value, ...] list (request id, routing reason). */
  responseHeaders?: readonly string[];
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

/** One try against one replica; events of a superseded try are ignored. */
class Attempt implements UpstreamHandler {
  control: UpstreamControl | undefined;

  constructor(private readonly exchange: Exchange, readonly replica: Replica, readonly series: ReplicaSeries) {}

  onStart(statusCode: number): void {
    if (this.exchange.isCurrent(this)) this.exchange.onStatus(statusCode);
    else this.abort(new Error('request no longer needed'));
  }

  onData(data: Buffer, framed: Buffer | undefined, more: boolean): void {
    if (this.exchange.isCurrent(this)) this.exchange.onData(data, framed, more);
  }

  onEnd(): void {
    if (this.exchange.isCurrent(this)) this.exchange.onEnd();
  }

  onError(error: Error): void {
    if (this.exchange.isCurrent(this)) this.exchange.onUpstreamError(error);
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
  private chunks: Buffer[] = [];
  private bodySize = 0;
  private relay: StreamRelay | undefined;
  private timer: NodeJS.Timeout | undefined;
  private finished = false;
  private forwardedAt = 0;
  private usage: TokenUsage | undefined;
  /** Upstream reading is paused until the client's socket drains. */
  private paused = false;
  private errorCode: string | undefined;
  /** performance.now() when the response headers went out (0: not yet). */
  private headersAt = 0;

  constructor(private readonly x: ExchangeInit) {}

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
    const replica = this.x.expert.pool.pick();
    if (!replica) {
      this.fail(new ApiError('no_healthy_replica', `expert '${this.x.expert.config.name}' has no healthy replica`));
      return;
    }
    this.timer = setTimeout(() => this.timeout(), this.x.expert.config.timeout_ms);
    this.launch(replica);
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
    replica.inFlight++;
    series.inFlight.inc();
    attempt.control = replica.pool.request({ method: 'POST', path: this.x.upstream.path, body: this.x.upstream.body, headers: this.x.upstreamHeaders ?? this.x.expert.upstreamHeaders }, attempt);
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

  onStatus(status: number): void {
    this.status = status;
    const replica = this.attempt!.replica;
    if (!replica.answered || !replica.up) {
      replica.markUp();
      this.attempt!.series.up.set(1);
    }
    if (status < 200 || status >= 300) this.mode = 'error-body';
    else if (this.x.call.stream) {
      this.mode = 'stream';
      this.relay = this.x.expert.backend.streamRelay(this.x.call);
    } else this.mode = 'body';
  }

  onData(chunk: Buffer, framed: Buffer | undefined, more: boolean): void {
    if (this.mode !== 'stream') {
      if (this.mode === 'body') clearTimeout(this.timer);
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
      this.fail(toApiError(err));
      return;
    }
    if (out === null) return;
    let flushed: boolean;
    let drains: NodeJS.EventEmitter = res;
    const direct = out === chunk && framed ? chunkSocket(res) : null;
    if (direct && framed) {
      // The client's answer is chunked too: the upstream's frame is already what it must receive,
      // so it goes to the socket as it came (no re-framing by node:http). When more of the same read
      // follows (frames, the end of the response), the socket is corked to the end of this tick so
      // that they leave in one write.
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
      // The client reads slower than the expert writes: stop reading upstream until it drains.
      const control = this.attempt!.control!;
      this.paused = true;
      control.pause();
      drains.once('drain', () => {
        this.paused = false;
        control.resume();
      });
    }
  }

  onEnd(): void {
    const backend = this.x.expert.backend;
    if (this.mode === 'error-body') {
      const err = backend.upstreamError(this.status, Buffer.concat(this.chunks));
      this.chunks = [];
      if (this.status >= 500) this.retryOrFail(err);
      else this.fail(err);
      return;
    }
    if (this.mode === 'body') {
      let adapted;
      try {
        adapted = backend.response(this.x.call, Buffer.concat(this.chunks, this.bodySize));
      } catch (err) {
        this.fail(toApiError(err));
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
      this.fail(toApiError(err));
      return;
    }
    this.usage = this.relay!.usage;
    if (!this.x.res.headersSent) this.sendHeaders(SSE_HEADERS);
    if (tail !== null) this.x.res.end(tail);
    else this.x.res.end();
    this.finish(200);
  }

  onUpstreamError(error: Error): void {
    const replica = this.attempt!.replica;
    if (this.x.res.headersSent) {
      this.streamFailed(new ApiError('upstream_stream_error', `expert '${this.x.expert.config.name}' failed mid-stream: ${error.message}`, { cause: error }));
      return;
    }
    const code = (error as { code?: string }).code;
    if (code === 'ECONNREFUSED') {
      replica.markDown();
      this.attempt!.series.up.set(0);
      this.x.logger.warn({ expert: this.x.expert.config.name, replica: replica.url }, 'replica refused the connection; marked down');
    }
    this.retryOrFail(new ApiError('upstream_unreachable', `expert '${this.x.expert.config.name}' replica ${replica.url} failed: ${error.message}`, { cause: error }));
  }

  /** A failure before the first byte: once, another replica of the same expert; then the error. */
  private retryOrFail(err: ApiError): void {
    const failed = this.releaseAttempt();
    if (this.attempts === 1 && failed) {
      const other = this.x.expert.pool.pick(failed.replica);
      if (other) {
        this.x.metrics.retry(this.x.expert.config.name);
        this.chunks = [];
        this.bodySize = 0;
        this.launch(other);
        return;
      }
    }
    this.fail(err);
  }

  private timeout(): void {
    if (this.finished) return;
    const attempt = this.releaseAttempt();
    const err = new ApiError('upstream_timeout', `expert '${this.x.expert.config.name}' sent no first token within ${this.x.expert.config.timeout_ms} ms`);
    attempt?.abort(err);
    this.fail(err);
  }

  private clientGone(): void {
    const attempt = this.releaseAttempt();
    attempt?.abort(new Error('client closed the connection'));
    this.errorCode = 'client_closed';
    this.x.metrics.error(this.x.expert.config.name, 'client_closed');
    this.finish(CLIENT_CLOSED);
  }

  /** Answers with an error: a JSON body when nothing was sent yet, else an SSE error event. */
  private fail(err: ApiError): void {
    if (this.x.res.headersSent) {
      this.streamFailed(err);
      return;
    }
    const attempt = this.releaseAttempt();
    attempt?.abort(err);
    const body = JSON.stringify(err.toBody());
    this.sendHeaders({ 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }, err.status);
    this.x.res.end(body);
    this.errorCode = err.code;
    this.x.metrics.error(this.x.expert.config.name, err.code);
    this.finish(err.status);
  }

  private streamFailed(err: ApiError): void {
    const attempt = this.releaseAttempt();
    attempt?.abort(err);
    this.usage = this.relay?.usage;
    this.x.res.end(sseError(err.toBody()));
    this.errorCode = err.code;
    this.x.metrics.error(this.x.expert.config.name, err.code);
    this.finish(this.status || err.status);
  }

  private sendHeaders(headers: Record<string, string>, status = 200): void {
    clearTimeout(this.timer);
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

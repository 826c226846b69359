/**
 * The upstream transport: how the gateway sends one HTTP request to one replica's origin and
 * receives the answer as events. The implementation is the hand-written keep-alive pool
 * (Http1Transport); undici's Pool.dispatch was measured against it and did not earn its place
 * (docs/transport.md). Retries are never done here: the exchange decides them, once, from
 * TransportError.replayable.
 */
import type { TransportError } from './errors.js';

export interface TransportRequest {
  method: 'GET' | 'POST' | 'HEAD';
  /** Origin-relative path with query. */
  path: string;
  /** Lower-case names; host and content-length are added. Pass the same object each time (it is validated and its text cached once). */
  headers: Readonly<Record<string, string>>;
  /** Headers of this request alone (request id, trace context): validated on every request, never cached. */
  requestHeaders?: Readonly<Record<string, string>>;
  body?: string | Buffer;
}

/** Response header names in lower case, repeated fields joined with ", "; a null-prototype object. */
export type ResponseHeaders = Readonly<Record<string, string>>;

/** Handed back by request(): stops or throttles the exchange. */
export interface TransportControl {
  /** Ends the exchange and closes its connection; the handler gets onError(reason) unless it already ended. */
  abort(reason: Error): void;
  pause(): void;
  resume(): void;
  readonly aborted: boolean;
}

/**
 * Receives one exchange's events; each request ends with exactly one of onEnd or onError. A handler
 * must not throw (an exception in it is the caller's bug, not the upstream's).
 */
export interface TransportHandler {
  onStart(status: number, headers: ResponseHeaders): void;
  /**
   * One piece of the body. `framed`: the same bytes as one whole canonical chunk frame exactly as
   * the upstream sent it (`<hex>\r\n<data>\r\n`, lower-case hex, no leading zeros, no extensions),
   * for a relay whose client side is chunked too; `more`: more bytes of the same read follow.
   */
  onData(data: Buffer, framed: Buffer | undefined, more: boolean): void;
  onEnd(): void;
  onError(err: TransportError): void;
}

export interface UpstreamTransport {
  readonly origin: string;
  request(request: TransportRequest, handler: TransportHandler): TransportControl;
  /** Connections open now (busy or idle). */
  readonly connections: number;
  close(): Promise<void>;
}

export interface TransportOptions {
  /** Cap on open connections (default: unlimited, one per concurrent request); the excess waits in FIFO order. */
  connections?: number;
  /** Idle connections are closed after this long (or sooner when the server's Keep-Alive header says so). */
  keepAliveMs: number;
  connectTimeoutMs?: number;
}

/**
 * Failures of the upstream transport, each with a stable code. `replayable` says that nothing of
 * the request can have reached a model (so sending it to another replica cannot run a generation
 * twice): the connection was refused or never completed, or a reused keep-alive connection closed
 * before any byte of an answer. Everything else may have been seen upstream and is never re-sent.
 */
import { ExpertRouterError } from '../common/errors.js';

export type TransportErrorCode =
  /** Nothing listens there (ECONNREFUSED, EHOSTUNREACH, ...). */
  | 'connect_refused'
  /** The TCP or TLS handshake did not finish in time. */
  | 'connect_timeout'
  /** TLS failed (certificate not trusted, handshake refused). */
  | 'tls_failed'
  /** A reused idle connection closed before any byte of the answer: the request did not reach the server. */
  | 'stale_connection'
  /** The connection closed or reset after the request went out, before the answer was complete. */
  | 'connection_closed'
  /** The answer broke HTTP/1.1 framing (see ResponseParser). */
  | 'bad_response'
  /** A header name or value of the request is not valid (CR, LF, NUL, non-token name). */
  | 'invalid_request_header'
  /** The transport was closed while the request waited or ran. */
  | 'transport_closed';

const REPLAYABLE: ReadonlySet<TransportErrorCode> = new Set(['connect_refused', 'connect_timeout', 'tls_failed', 'stale_connection', 'transport_closed']);

export class TransportError extends ExpertRouterError<TransportErrorCode> {
  /** True when no byte of the request can have reached the upstream's model. */
  readonly replayable: boolean;

  constructor(code: TransportErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
    this.replayable = REPLAYABLE.has(code);
  }
}

/** The upstream broke the protocol; the connection cannot be trusted further. */
export class ResponseParseError extends TransportError {
  constructor(message: string) {
    super('bad_response', message);
  }
}

const REFUSED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * The TransportError for a socket failure: `connected` says whether the connection was ever
 * established, `answered` whether any byte of the answer came, `reused` whether it had served a
 * request before this one; `closedMessage` describes a close without a socket error.
 */
export function socketFailure(err: Error | undefined, state: { connected: boolean; answered: boolean; reused: boolean }, closedMessage = 'closed'): TransportError {
  if (err instanceof TransportError) return err;
  const sys = (err as NodeJS.ErrnoException | undefined)?.code;
  const detail = err ? `${err.message}${sys && !err.message.includes(sys) ? ` (${sys})` : ''}` : closedMessage;
  if (!state.connected) {
    if (sys !== undefined && REFUSED.has(sys)) return new TransportError('connect_refused', `connection refused: ${detail}`, { cause: err });
    if (sys?.startsWith('ERR_TLS') || sys?.startsWith('ERR_SSL') || /certificate|SSL|TLS/i.test(err?.message ?? '')) return new TransportError('tls_failed', `TLS failed: ${detail}`, { cause: err });
    if (sys === 'ETIMEDOUT') return new TransportError('connect_timeout', `connect timed out: ${detail}`, { cause: err });
    return new TransportError('connect_refused', `connection failed: ${detail}`, { cause: err });
  }
  if (state.reused && !state.answered) return new TransportError('stale_connection', `reused connection closed before any answer: ${detail}`, { cause: err });
  return new TransportError('connection_closed', state.answered ? `connection closed before the end of the answer: ${detail}` : `connection closed without an answer: ${detail}`, { cause: err });
}

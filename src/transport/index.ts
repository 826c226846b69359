/** The upstream transport: an interface, two implementations, and their errors. */
import { Http1Transport } from './http1-transport.js';
import type { TransportKind, TransportOptions, UpstreamTransport } from './types.js';
import { UndiciTransport } from './undici-transport.js';

export type { ResponseHeaders, TransportControl, TransportHandler, TransportKind, TransportOptions, TransportRequest, UpstreamTransport } from './types.js';
export { TransportError, ResponseParseError, type TransportErrorCode } from './errors.js';
export { Http1Transport } from './http1-transport.js';
export { UndiciTransport } from './undici-transport.js';
export { ResponseParser, MAX_HEAD_BYTES, type ResponseEvents } from './response-parser.js';
export { headerProblem } from './request-headers.js';

/** A transport of the given kind to one origin. */
export function createTransport(kind: TransportKind, origin: string, opts: TransportOptions): UpstreamTransport {
  return kind === 'undici' ? new UndiciTransport(origin, opts) : new Http1Transport(origin, opts);
}

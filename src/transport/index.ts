/** The upstream transport: an interface, its implementation, and their errors. */
import { Http1Transport } from './http1-transport.js';
import type { TransportOptions, UpstreamTransport } from './types.js';

export type { ResponseHeaders, TransportControl, TransportHandler, TransportOptions, TransportRequest, UpstreamTransport } from './types.js';
export { TransportError, ResponseParseError, type TransportErrorCode } from './errors.js';
export { Http1Transport } from './http1-transport.js';
export { ResponseParser, MAX_HEAD_BYTES, type ResponseEvents } from './response-parser.js';
export { headerProblem } from './request-headers.js';

/** The transport to one origin. */
export function createTransport(origin: string, opts: TransportOptions): UpstreamTransport {
  return new Http1Transport(origin, opts);
}

/**
 * The request id and W3C trace context of a request. A client's x-request-id is kept when it is
 * 1-128 visible ASCII characters, else one is generated; a valid `traceparent` (and its
 * `tracestate`) is passed upstream unchanged, an invalid one dropped.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;
/** version-traceid-parentid-flags; version ff and all-zero ids are invalid (W3C Trace Context §3.2). */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}(-.*)?$/;
const TRACESTATE_LIMIT = 512;
const HEADER_SAFE = /^[\x20-\x7e]*$/;

export function requestIdOf(headers: IncomingHttpHeaders): string {
  const given = headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

export function validTraceparent(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const m = TRACEPARENT.exec(value);
  if (!m || m[1] === 'ff' || /^0+$/.test(m[2]) || /^0+$/.test(m[3])) return undefined;
  if (m[1] === '00' && m[4] !== undefined) return undefined;
  return value;
}

/** The upstream headers of one request, sent after the expert's own: the request id and trace context. */
export function requestHeadersFor(requestId: string, headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = { 'x-request-id': requestId };
  const traceparent = validTraceparent(headers.traceparent as string | undefined);
  if (traceparent) {
    out.traceparent = traceparent;
    const state = headers.tracestate;
    if (typeof state === 'string' && state.length <= TRACESTATE_LIMIT && HEADER_SAFE.test(state)) out.tracestate = state;
  }
  return out;
}

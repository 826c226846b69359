/** Checks of what the gateway writes upstream: header names are tokens, values hold no CR, LF or NUL. */
import { TransportError } from './errors.js';

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** The reason `name: value` cannot be sent, or undefined when it can. */
export function headerProblem(name: string, value: string): string | undefined {
  if (!TOKEN.test(name)) return `header name '${JSON.stringify(name).slice(1, -1)}' is not a token`;
  if (!VALUE.test(value)) return `value of header '${name}' holds a control character (CR, LF, NUL, ...)`;
  return undefined;
}

const checked = new WeakSet<object>();

/** Throws TransportError('invalid_request_header') unless every header can be sent. */
function assertSendable(headers: Readonly<Record<string, string>>): void {
  for (const name in headers) {
    const problem = headerProblem(name, headers[name]);
    if (problem) throw new TransportError('invalid_request_header', problem);
  }
}

/** Checks a request's headers: the shared `headers` object once for its lifetime, `requestHeaders` every time. */
export function assertRequestHeaders(headers: Readonly<Record<string, string>>, requestHeaders?: Readonly<Record<string, string>>): void {
  if (!checked.has(headers)) {
    assertSendable(headers);
    checked.add(headers);
  }
  if (requestHeaders) assertSendable(requestHeaders);
}

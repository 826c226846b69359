/**
 * Rewrites top-level members of a JSON object body without parsing or re-serialising the rest: the
 * other members are copied as byte ranges. The forwarded body of an OpenAI request is the client's
 * own bytes with only `model` (and `stream_options`) replaced, however long its messages are.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA_BYTES = Buffer.from(',');
const CLOSE_BYTES = Buffer.from('}');

function skipSpace(b: Buffer, i: number): number {
  while (i < b.length && (b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x09)) i++;
  return i;
}

/** `i` is at an opening quote: the offset after the closing one, or -1. */
function stringEnd(b: Buffer, i: number): number {
  let from = i + 1;
  for (;;) {
    const q = b.indexOf(QUOTE, from);
    if (q === -1) return -1;
    let backslashes = 0;
    while (b[q - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return q + 1;
    from = q + 1;
  }
}

/** `i` is at the start of a value: the offset where it ends (a scalar's may hold trailing space), or -1. */
function valueEnd(b: Buffer, i: number): number {
  let depth = 0;
  while (i < b.length) {
    const c = b[i];
    if (c === QUOTE) {
      i = stringEnd(b, i);
      if (i === -1 || depth === 0) return i;
      continue;
    }
    if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      if (depth === 0) return i;
      if (--depth === 0) return i + 1;
    } else if (c === COMMA && depth === 0) return i;
    i++;
  }
  return -1;
}

/**
 * `raw` (a JSON object, already known to parse) with the given top-level members set: they come
 * first, every other member follows as it was, every earlier occurrence of their names is dropped.
 * Undefined when the text cannot be handled this way (a top-level key written with escapes).
 */
export function setTopLevelMembers(raw: Buffer, members: Record<string, unknown>): Buffer | undefined {
  const names = Object.keys(members);
  const parts: Buffer[] = [Buffer.from(`{${names.map((n) => `${JSON.stringify(n)}:${JSON.stringify(members[n])}`).join(',')}`)];
  let i = skipSpace(raw, 0);
  if (raw[i] !== OPEN_BRACE) return undefined;
  i = skipSpace(raw, i + 1);
  let first = names.length === 0;
  if (raw[i] !== CLOSE_BRACE) {
    for (;;) {
      if (raw[i] !== QUOTE) return undefined;
      const start = i;
      const keyEnd = stringEnd(raw, i);
      if (keyEnd === -1) return undefined;
      const key = raw.subarray(start + 1, keyEnd - 1);
      if (key.includes(BACKSLASH)) return undefined;
      i = skipSpace(raw, keyEnd);
      if (raw[i] !== COLON) return undefined;
      i = valueEnd(raw, skipSpace(raw, i + 1));
      if (i === -1) return undefined;
      if (!names.includes(key.toString('utf8'))) {
        if (!first) parts.push(COMMA_BYTES);
        parts.push(raw.subarray(start, i));
        first = false;
      }
      i = skipSpace(raw, i);
      if (raw[i] === COMMA) {
        i = skipSpace(raw, i + 1);
        continue;
      }
      if (raw[i] === CLOSE_BRACE) break;
      return undefined;
    }
  }
  parts.push(CLOSE_BYTES);
  return Buffer.concat(parts);
}

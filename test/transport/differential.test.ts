/**
 * Differential fuzz test of the response parser against llhttp (Node's own HTTP parser, reached
 * through node:http's client over a raw loopback socket): the same random valid responses (every
 * framing, random chunkings, extensions, trailers, 1xx heads) and mutations of them (bytes flipped
 * to CR, LF, NUL, SP, ':' and the like, inserted, deleted, lines duplicated, cut short) are fed to
 * both, ours in random splits, and both must agree: an error for both, or the same status, headers
 * and body. The seed is fixed, so CI runs the same cases every time. The only differences allowed
 * are the ones the parser makes on purpose (docs/transport.md): status codes outside 100-599 and
 * versions other than HTTP/1.0 and 1.1, and a status line whose CR is followed by something other
 * than LF, which llhttp accepts and the gateway refuses.
 */
import { request as httpRequest } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng, type Rng } from '../../src/common/rng.js';
import { ResponseParseError, ResponseParser } from '../../src/transport/index.js';

const SEED = 14_002;
const VALID_CASES = 400;
const MUTATED_CASES = 1_600;

interface Outcome {
  ok: boolean;
  status?: number;
  headers?: string;
  body?: string;
}

const pick = <T>(rng: Rng, items: readonly T[]): T => items[rng.int(0, items.length - 1)];

const TOKEN_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~";
const VALUE_CHARS = 'abcdefghijklmnopqrstuvwxyz ABCDEFGHIJ0123456789\t/=;,."()<>@[]{}?\xe9\xff';

function word(rng: Rng, chars: string, min: number, max: number): string {
  let out = '';
  for (let n = rng.int(min, max); n > 0; n--) out += chars[rng.int(0, chars.length - 1)];
  return out;
}

/** One valid response, every framing. */
function validResponse(rng: Rng): string {
  const status = pick(rng, [200, 200, 200, 201, 204, 304, 400, 404, 429, 500, 503]);
  const version = rng.next() < 0.9 ? '1.1' : '1.0';
  let out = '';
  if (rng.next() < 0.1) out += pick(rng, ['HTTP/1.1 100 Continue\r\n\r\n', 'HTTP/1.1 103 Early Hints\r\nlink: </a>; rel=preload\r\n\r\n']);
  if (rng.next() < 0.05) out += '\r\n';
  out += `HTTP/${version} ${status}${pick(rng, [' OK', ' Something Else', '', ' '])}\r\n`;
  const headers: string[] = [];
  for (let n = rng.int(0, 5); n > 0; n--) headers.push(`${word(rng, TOKEN_CHARS, 1, 12)}:${pick(rng, ['', ' ', '  ', '\t'])}${word(rng, VALUE_CHARS, 0, 20).trim()}${pick(rng, ['', ' ', '\t'])}`);
  if (rng.next() < 0.2) headers.push(`connection: ${pick(rng, ['close', 'keep-alive', 'Keep-Alive, foo'])}`);
  const body = word(rng, 'data: {"x":1}\n\r', 0, 60);
  const framing = pick(rng, ['length', 'chunked', 'chunked', 'close', 'te-close']);
  if (status === 204 || status === 304) {
    if (rng.next() < 0.5) headers.push('content-length: 0');
  } else if (framing === 'length') headers.push(`content-length: ${pick(rng, ['', '0'])}${Buffer.byteLength(body, 'latin1')}`);
  else if (framing === 'chunked') headers.push(`transfer-encoding: ${pick(rng, ['chunked', 'Chunked', 'gzip, chunked', 'chunked '])}`);
  else if (framing === 'te-close') headers.push(`transfer-encoding: ${pick(rng, ['gzip', 'chunked, gzip', 'identity'])}`);
  if (rng.next() < 0.5) headers.reverse();
  out += headers.map((h) => `${h}\r\n`).join('') + '\r\n';
  if (status === 204 || status === 304) return out;
  if (framing === 'chunked') {
    let rest = body;
    while (rest.length > 0) {
      const n = Math.min(rest.length, rng.int(1, 20));
      const hex = n.toString(16);
      const size = pick(rng, [hex, hex, hex.toUpperCase(), `00${hex}`]);
      const ext = rng.next() < 0.2 ? pick(rng, [';a', ';a=b', ';a="b c"', ';a=b;c=d']) : '';
      out += `${size}${ext}\r\n${rest.slice(0, n)}\r\n`;
      rest = rest.slice(n);
    }
    out += '0\r\n';
    if (rng.next() < 0.2) out += `x-trailer: ${word(rng, TOKEN_CHARS, 1, 8)}\r\n`;
    out += '\r\n';
    return out;
  }
  return out + body;
}

const NASTY = ['\r', '\n', '\0', ' ', '\t', ':', ';', '=', '"', ',', 'x', '0', 'f', 'g', '\x01', '\x7f', '\x80', '\r\n', 'chunked', 'content-length: 3\r\n', 'transfer-encoding: chunked\r\n'];

/** A valid response broken in one to three places. */
function mutated(rng: Rng): string {
  let text = validResponse(rng);
  for (let n = rng.int(1, 3); n > 0; n--) {
    const at = rng.int(0, text.length);
    const op = rng.int(0, 4);
    if (op === 0) text = text.slice(0, at) + pick(rng, NASTY) + text.slice(at + 1);
    else if (op === 1) text = text.slice(0, at) + pick(rng, NASTY) + text.slice(at);
    else if (op === 2) text = text.slice(0, at) + text.slice(at + rng.int(1, 3));
    else if (op === 3) text = text.slice(0, at);
    else {
      const lines = text.split('\r\n');
      const i = rng.int(1, Math.max(1, lines.length - 2));
      lines.splice(i, 0, lines[i]);
      text = lines.join('\r\n');
    }
  }
  return text;
}

/** Flat, lower-case, joined headers as a comparable string. */
function headerText(pairs: [string, string][]): string {
  const map = new Map<string, string>();
  for (const [name, value] of pairs) {
    const key = name.toLowerCase();
    map.set(key, map.has(key) ? `${map.get(key)}, ${value}` : value);
  }
  return JSON.stringify([...map].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
}

/** Ours: fed in random splits, then the connection's end (the server closes after writing). */
function ours(raw: Buffer, rng: Rng): Outcome {
  const out: Outcome = { ok: false };
  const body: Buffer[] = [];
  const p = new ResponseParser({
    onHead: (status, headers) => Object.assign(out, { status, headers: headerText(Object.entries(headers)) }),
    onBody: (data) => body.push(Buffer.from(data)),
    onComplete: () => {},
  });
  try {
    let at = 0;
    while (at < raw.length) {
      const n = rng.next() < 0.3 ? raw.length - at : rng.int(1, 8);
      p.push(raw.subarray(at, at + n));
      at += n;
    }
    p.end();
  } catch (err) {
    if (!(err instanceof ResponseParseError)) throw err;
    // Bytes after a complete response: the answer stands (the transport drops the connection).
    if (!p.done) return { ok: false, status: out.status };
  }
  return { ...out, ok: true, body: Buffer.concat(body).toString('latin1') };
}

/** How many bytes the complete answer took, when bytes follow it; else undefined. */
function answerLength(raw: Buffer): number | undefined {
  const p = new ResponseParser({ onHead: () => {}, onBody: () => {}, onComplete: () => {} });
  try {
    for (let i = 0; i < raw.length; i++) {
      p.push(raw.subarray(i, i + 1));
      if (p.done) return i + 1 < raw.length ? i + 1 : undefined;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

let server: Server;
let port = 0;
const responses: Buffer[] = [];

beforeAll(async () => {
  server = createServer((socket) => {
    let head = '';
    socket.on('error', () => {});
    socket.on('data', (bytes) => {
      if (head.includes('\r\n\r\n')) return;
      head += bytes.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      const id = Number(/^GET \/(\d+) /.exec(head)?.[1]);
      socket.end(responses[id]);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

/** llhttp's outcome for the same bytes, through node:http's client. */
function llhttp(id: number): Promise<Outcome> {
  return new Promise((resolve) => {
    let settled = false;
    let status: number | undefined;
    const done = (o: Outcome): void => {
      if (settled) return;
      settled = true;
      resolve(o);
    };
    const req = httpRequest({ host: '127.0.0.1', port, path: `/${id}`, method: 'GET', agent: false, maxHeaderSize: 64 * 1024 }, (res) => {
      status = res.statusCode;
      const pairs: [string, string][] = [];
      for (let i = 0; i < res.rawHeaders.length; i += 2) pairs.push([res.rawHeaders[i], res.rawHeaders[i + 1]]);
      const body: Buffer[] = [];
      res.on('data', (d: Buffer) => body.push(d));
      res.on('end', () => done(res.complete ? { ok: true, status, headers: headerText(pairs), body: Buffer.concat(body).toString('latin1') } : { ok: false, status }));
      res.on('error', () => done({ ok: false, status }));
      res.on('aborted', () => done({ ok: false, status }));
    });
    req.on('error', () => done({ ok: false, status }));
    req.end();
  });
}

/** The differences the parser makes on purpose: llhttp accepts these, the gateway refuses them. */
function deliberatelyStricter(raw: string, theirs: Outcome): boolean {
  // Every status line of the answer (1xx heads first): its version, its code, and how it ends.
  for (const line of raw.match(/(?:^|\n)[\r\n]*HTTP\/[^\n]*/g) ?? []) {
    const m = /HTTP\/(\d)\.(\d) (\d{3})/.exec(line);
    if (m && `${m[1]}.${m[2]}` !== '1.0' && `${m[1]}.${m[2]}` !== '1.1') return true;
    // llhttp takes any byte after the status line's CR as its LF; the gateway wants the LF.
    if (/\r[^\n]/.test(line)) return true;
  }
  return theirs.status !== undefined && (theirs.status < 100 || theirs.status > 599);
}

/**
 * Each case against llhttp. Where bytes follow a complete answer, the gateway keeps the answer and
 * drops the connection (node:http's client fails the response instead): such a case is compared on
 * the bytes of the answer alone.
 */
async function compare(texts: string[], rng: Rng): Promise<{ tried: number; same: number; stricter: number; trailing: number; mismatches: string[] }> {
  const base = responses.length;
  let trailing = 0;
  for (const t of texts) {
    const raw = Buffer.from(t, 'latin1');
    const length = answerLength(raw);
    if (length !== undefined) trailing++;
    responses.push(length === undefined ? raw : raw.subarray(0, length));
  }
  const theirs: Outcome[] = [];
  for (let i = 0; i < texts.length; i += 16) {
    theirs.push(...(await Promise.all(texts.slice(i, i + 16).map((_, j) => llhttp(base + i + j)))));
  }
  let same = 0;
  let stricter = 0;
  const mismatches: string[] = [];
  texts.forEach((text, i) => {
    const mine = ours(responses[base + i], rng);
    const their = theirs[i];
    if (JSON.stringify(mine) === JSON.stringify(their)) same++;
    else if (!mine.ok && deliberatelyStricter(text, their)) stricter++;
    else mismatches.push(`${JSON.stringify(text)}\n  ours:   ${JSON.stringify(mine)}\n  llhttp: ${JSON.stringify(their)}`);
  });
  return { tried: texts.length, same, stricter, trailing, mismatches };
}

describe('response parser vs llhttp (differential, fixed seed)', () => {
  it(`agrees on ${VALID_CASES} random valid responses fed in random splits`, async () => {
    const rng = createRng(SEED);
    const texts = Array.from({ length: VALID_CASES }, () => validResponse(rng));
    const r = await compare(texts, rng);
    expect(r.mismatches.slice(0, 5)).toEqual([]);
    expect(r.same).toBe(VALID_CASES);
  });

  it(`agrees on ${MUTATED_CASES} mutated responses (or is stricter only where it means to be)`, async () => {
    const rng = createRng(SEED + 1);
    const texts = Array.from({ length: MUTATED_CASES }, () => mutated(rng));
    const r = await compare(texts, rng);
    expect(r.mismatches.slice(0, 5)).toEqual([]);
    expect(r.same + r.stricter).toBe(MUTATED_CASES);
    // The mutations must exercise both outcomes, or the test proves little.
    const errors = texts.filter((_, i) => !ours(responses[responses.length - MUTATED_CASES + i], rng).ok).length;
    expect(errors).toBeGreaterThan(MUTATED_CASES / 4);
    expect(errors).toBeLessThan(MUTATED_CASES);
  }, 60_000);
});

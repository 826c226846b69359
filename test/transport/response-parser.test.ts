import { describe, expect, it } from 'vitest';
import { MAX_HEAD_BYTES, ResponseParseError, ResponseParser } from '../../src/transport/index.js';

interface Seen {
  status?: number;
  headers?: Record<string, string>;
  data: Buffer[];
  framed: (string | undefined)[];
  more: boolean[];
  complete: number;
}

function parser(noBody = false): { p: ResponseParser; seen: Seen } {
  const seen: Seen = { data: [], framed: [], more: [], complete: 0 };
  const p = new ResponseParser({
    onHead: (status, headers) => Object.assign(seen, { status, headers }),
    onBody: (data, framed, more) => {
      seen.more.push(more);
      seen.data.push(Buffer.from(data));
      seen.framed.push(framed?.toString('latin1'));
    },
    onComplete: () => seen.complete++,
  }, noBody);
  return { p, seen };
}

const body = (seen: Seen): string => Buffer.concat(seen.data).toString('utf8');

/** Feeds the bytes one at a time: every state must survive a split anywhere. */
function feedBytewise(p: ResponseParser, text: string): void {
  const bytes = Buffer.from(text, 'latin1');
  for (let i = 0; i < bytes.length; i++) p.push(bytes.subarray(i, i + 1));
}

const CHUNKED_HEAD = 'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\nKeep-Alive: timeout=5\r\n\r\n';

describe('ResponseParser', () => {
  it('reads a content-length body split across reads, and keeps the connection', () => {
    const { p, seen } = parser();
    p.push(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 11\r\nX-A: 1\r\nx-a: 2\r\n\r\nhello'));
    expect(seen.complete).toBe(0);
    p.push(Buffer.from(' world'));
    expect(seen).toMatchObject({ status: 200, headers: { 'content-length': '11', 'x-a': '1, 2' }, complete: 1 });
    expect(body(seen)).toBe('hello world');
    expect(p.keepAlive).toBe(true);
    expect(p.done).toBe(true);
  });

  it('hands whole canonical chunk frames on with their framing (not those with extensions or leading zeros), and completes at the last chunk', () => {
    const { p, seen } = parser();
    const frame1 = '6\r\ndata: \r\n';
    const frame2 = 'a;ext=1\r\n{"x":1}\n\n\n\r\n';
    p.push(Buffer.from(CHUNKED_HEAD + frame1 + frame2));
    expect(seen.framed).toEqual([frame1, undefined]);
    expect(seen.more).toEqual([true, false]);
    expect(body(seen)).toBe('data: {"x":1}\n\n\n');
    expect(seen.complete).toBe(0);
    p.push(Buffer.from('0\r\n\r\n'));
    expect(seen.complete).toBe(1);
    expect(p.keepAlive).toBe(true);
  });

  it('gives the same body when every byte arrives alone (no frame is then whole)', () => {
    const { p, seen } = parser();
    feedBytewise(p, `${CHUNKED_HEAD}5\r\nhello\r\n1;x\r\n \r\n5\r\nworld\r\n0\r\nTrailer: yes\r\n\r\n`);
    expect(body(seen)).toBe('hello world');
    expect(seen.framed.every((f) => f === undefined)).toBe(true);
    expect(seen.complete).toBe(1);
  });

  it('skips informational answers and reads the final one', () => {
    const { p, seen } = parser();
    p.push(Buffer.from('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\nok'));
    expect(seen.status).toBe(201);
    expect(body(seen)).toBe('ok');
  });

  it('reads a body that runs to the close, and does not keep that connection', () => {
    const { p, seen } = parser();
    p.push(Buffer.from('HTTP/1.0 200 OK\r\n\r\nall of it'));
    expect(p.keepAlive).toBe(false);
    expect(seen.complete).toBe(0);
    p.end();
    expect(seen.complete).toBe(1);
    expect(body(seen)).toBe('all of it');
  });

  it('knows answers without a body: 204, 304, HEAD, content-length 0', () => {
    for (const [head, noBody] of [
      ['HTTP/1.1 204 No Content\r\n\r\n', false],
      ['HTTP/1.1 304 Not Modified\r\ncontent-length: 10\r\n\r\n', false],
      ['HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n', true],
      ['HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n', false],
    ] as const) {
      const { p, seen } = parser(noBody);
      p.push(Buffer.from(head));
      expect(seen.complete, head).toBe(1);
    }
  });

  it('honours connection: close on HTTP/1.1 and keep-alive on HTTP/1.0', () => {
    const close = parser();
    close.p.push(Buffer.from('HTTP/1.1 200 OK\r\nConnection: close\r\ncontent-length: 0\r\n\r\n'));
    expect(close.p.keepAlive).toBe(false);
    const keep = parser();
    keep.p.push(Buffer.from('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\ncontent-length: 0\r\n\r\n'));
    expect(keep.p.keepAlive).toBe(true);
  });

  it('refuses protocol violations with ResponseParseError', () => {
    const cases = [
      'SSH-2.0-OpenSSH\r\n\r\n',
      'HTTP/1.1 200 OK\r\nno colon here\r\n\r\n',
      'HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n',
      `${CHUNKED_HEAD}zz\r\n`,
      `${CHUNKED_HEAD}2\r\nabc\r\n`,
      'HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nab',
    ];
    for (const text of cases) {
      const { p } = parser();
      expect(() => p.push(Buffer.from(text)), text).toThrow(ResponseParseError);
    }
  });

  it('says whether the connection closed before any answer or in the middle of one', () => {
    const silent = parser();
    expect(() => silent.p.end()).toThrow(/without answering/);
    const cut = parser();
    cut.p.push(Buffer.from(`${CHUNKED_HEAD}5\r\nhel`));
    expect(cut.p.hasStarted).toBe(true);
    expect(() => cut.p.end()).toThrow(/before the end of the response/);
  });

  it('keeps headers in a null-prototype object: a Constructor header is just a header', () => {
    const { p, seen } = parser();
    p.push(Buffer.from('HTTP/1.1 200 OK\r\nConstructor: x\r\n__proto__: y\r\ncontent-length: 0\r\n\r\n'));
    expect(seen.headers!.constructor).toBe('x');
    expect(seen.headers!.__proto__).toBe('y');
    expect(Object.getPrototypeOf(seen.headers)).toBe(null);
  });

  it('parses Transfer-Encoding as exact tokens: chunked only as the final coding', () => {
    const chunked = ['chunked', 'CHUNKED', 'gzip, chunked', ' chunked '];
    for (const te of chunked) {
      const { p, seen } = parser();
      p.push(Buffer.from(`HTTP/1.1 200 OK\r\ntransfer-encoding: ${te}\r\n\r\n2\r\nok\r\n0\r\n\r\n`));
      expect(seen.complete, te).toBe(1);
      expect(body(seen)).toBe('ok');
    }
    for (const te of ['xchunked', 'chunked, gzip', 'chunkedx']) {
      const { p, seen } = parser();
      p.push(Buffer.from(`HTTP/1.1 200 OK\r\ntransfer-encoding: ${te}\r\n\r\n2\r\nok\r\n0\r\n\r\n`));
      // Not chunked: the body runs to the close, the connection is not kept.
      expect(p.keepAlive, te).toBe(false);
      p.end();
      expect(body(seen), te).toBe('2\r\nok\r\n0\r\n\r\n');
    }
  });

  it('enforces the head limit within one read and across reads', () => {
    const big = `HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(200_000)}\r\ncontent-length: 0\r\n\r\n`;
    expect(() => parser().p.push(Buffer.from(big))).toThrow(/larger than/);
    const justOver = `HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(MAX_HEAD_BYTES - 30)}\r\ncontent-length: 0\r\n\r\n`;
    expect(Buffer.byteLength(justOver)).toBeGreaterThan(MAX_HEAD_BYTES);
    expect(() => parser().p.push(Buffer.from(justOver))).toThrow(/larger than/);
    const split = parser();
    expect(() => {
      for (let i = 0; i < justOver.length; i += 1000) split.p.push(Buffer.from(justOver.slice(i, i + 1000)));
    }).toThrow(/larger than/);
    const { p, seen } = parser();
    p.push(Buffer.from(`HTTP/1.1 200 OK\r\nx-ok: ${'a'.repeat(MAX_HEAD_BYTES - 100)}\r\ncontent-length: 0\r\n\r\n`));
    expect(seen.complete).toBe(1);
  });

  it('refuses what llhttp refuses in a head (and status codes outside 100-599)', () => {
    const heads = [
      'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-length: 5\r\n\r\n',
      'HTTP/1.1 099 Odd\r\ncontent-length: 0\r\n\r\n',
      'HTTP/1.1 000 Odd\r\ncontent-length: 0\r\n\r\n',
      'HTTP/1.1 600 Odd\r\ncontent-length: 0\r\n\r\n',
      'HTTP/1.1 20 OK\r\ncontent-length: 0\r\n\r\n',
      'HTTP/1.1 2000 OK\r\ncontent-length: 0\r\n\r\n',
      'HTTP/1.2 200 OK\r\ncontent-length: 0\r\n\r\n',
      'HTTP/1.1 200 OK\r\ncontent-length : 0\r\n\r\n',
      'HTTP/1.1 200 OK\r\ncontent-length\t: 0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nx-a: a\0b\r\ncontent-length: 0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nx-a: a\x01b\r\ncontent-length: 0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nx-a: a\x7fb\r\ncontent-length: 0\r\n\r\n',
      'HTTP/1.1 200 OK\nx-a: b\ncontent-length: 0\n\n',
      'HTTP/1.1 200 OK\r\nx-a: b\ncontent-length: 0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nx-a: a\rb\r\ncontent-length: 0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nx(a): b\r\ncontent-length: 0\r\n\r\n',
      'HTTP/1.1 200 OK\r\n: b\r\ncontent-length: 0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nx-a: b\r\n c\r\ncontent-length: 0\r\n\r\n',
      'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 2\r\n\r\n',
      'HTTP/1.1 200 OK\r\ncontent-length: 2, 2\r\n\r\n',
      'HTTP/1.1 200 OK\r\ncontent-length: +2\r\n\r\n',
      'HTTP/1.1 200 OK\r\ncontent-length: 99999999999999999999\r\n\r\n',
      'HTTP/1.1 101 Switching Protocols\r\n\r\n',
      'http/1.1 200 OK\r\ncontent-length: 0\r\n\r\n',
    ];
    for (const head of heads) {
      expect(() => parser().p.push(Buffer.from(head, 'latin1')), JSON.stringify(head)).toThrow(ResponseParseError);
      // The same when the head arrives a byte at a time.
      expect(() => feedBytewise(parser().p, head), JSON.stringify(head)).toThrow(ResponseParseError);
    }
  });

  it('checks a chunk-size line the same whether it arrives whole or split', () => {
    const bad = ['2\rGARBAGE\r\nok\r\n', '2 \r\nok\r\n', '2 ;a=b\r\nok\r\n', '2\nok\r\n', 'ffffffffffffffffff\r\n', '2;\r\nok\r\n', '2;a="b\r\nok\r\n', '2\r\nokX', '2\r\nok\n', '2\r\nok\r\n0\r\nx t: 1\r\n\r\n'];
    for (const frame of bad) {
      expect(() => parser().p.push(Buffer.from(CHUNKED_HEAD + frame, 'latin1')), JSON.stringify(frame)).toThrow(ResponseParseError);
      const split = parser();
      split.p.push(Buffer.from(CHUNKED_HEAD));
      expect(() => feedBytewise(split.p, frame), JSON.stringify(frame)).toThrow(ResponseParseError);
    }
    for (const frame of ['0002\r\nok\r\n', '2;a=b\r\nok\r\n', '2;a="b c"\r\nok\r\n', '2;a;b=c\r\nok\r\n', '2\r\nok\r\n']) {
      const whole = parser();
      whole.p.push(Buffer.from(`${CHUNKED_HEAD}${frame}0\r\n\r\n`, 'latin1'));
      const split = parser();
      feedBytewise(split.p, `${CHUNKED_HEAD}${frame}0\r\n\r\n`);
      expect([body(whole.seen), whole.seen.complete], frame).toEqual(['ok', 1]);
      expect([body(split.seen), split.seen.complete], frame).toEqual(['ok', 1]);
    }
  });

  it('skips empty lines before the status line, as llhttp does', () => {
    const { p, seen } = parser();
    feedBytewise(p, '\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
    expect([seen.status, body(seen)]).toEqual([200, 'ok']);
  });
});

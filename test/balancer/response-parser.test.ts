import { describe, expect, it } from 'vitest';
import { ResponseParseError, ResponseParser } from '../../src/balancer/http1/response-parser.js';

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

  it('hands whole chunk frames on with their framing, and completes at the last chunk', () => {
    const { p, seen } = parser();
    const frame1 = '6\r\ndata: \r\n';
    const frame2 = 'a;ext=1\r\n{"x":1}\n\n\n\r\n';
    p.push(Buffer.from(CHUNKED_HEAD + frame1 + frame2));
    expect(seen.framed).toEqual([frame1, frame2]);
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
});

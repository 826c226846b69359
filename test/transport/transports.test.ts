/** The upstream transport (the hand-written keep-alive pool) against raw TCP servers on loopback. */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { onRequests } from './raw-upstream.js';
import { createTransport, type TransportError, type TransportHandler, type TransportRequest, type UpstreamTransport } from '../../src/transport/index.js';

/** A raw TCP server: `answer` gets each request's head and the connection's request count. */
async function rawServer(answer: (socket: Socket, head: string, nth: number) => void): Promise<{ server: Server; url: string; connections: () => number; closed: Promise<void>[] }> {
  let connections = 0;
  const closed: Promise<void>[] = [];
  const server = createServer((socket) => {
    connections++;
    closed.push(new Promise((resolve) => socket.on('close', () => resolve())));
    onRequests(socket, (req) => answer(socket, req.head, req.nth));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections, closed };
}

interface Outcome {
  status?: number;
  headers?: Readonly<Record<string, string>>;
  body: string;
  error?: TransportError;
}

function collect(): { handler: TransportHandler; done: Promise<Outcome> } {
  const outcome: Outcome = { body: '' };
  let finish!: (o: Outcome) => void;
  const done = new Promise<Outcome>((resolve) => (finish = resolve));
  return {
    done,
    handler: {
      onStart: (status, headers) => Object.assign(outcome, { status, headers }),
      onData: (data) => (outcome.body += data.toString('utf8')),
      onEnd: () => finish(outcome),
      onError: (error) => finish({ ...outcome, error }),
    },
  };
}

const POST = { method: 'POST' as const, path: '/v1/chat/completions', headers: { 'content-type': 'application/json' }, body: '{"a":1}' };
const OK = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) await f();
});

function open(server: Server, url: string, opts: { connections?: number } = {}): UpstreamTransport {
  const t = createTransport(url, { keepAliveMs: 10_000, ...opts });
  cleanup.push(async () => {
    await t.close();
    await new Promise((resolve) => server.close(resolve));
  });
  return t;
}

/** One request; resolves a turn of the event loop after its end. */
async function one(t: UpstreamTransport, request: TransportRequest = POST): Promise<Outcome> {
  const { handler, done } = collect();
  t.request(request, handler);
  const outcome = await done;
  await new Promise((resolve) => setImmediate(resolve));
  return outcome;
}

describe('http1 transport', () => {
  it('reuses one keep-alive connection for requests in sequence', async () => {
    const s = await rawServer((socket) => socket.write(OK));
    const t = open(s.server, s.url);
    for (let i = 0; i < 3; i++) expect(await one(t)).toMatchObject({ status: 200, body: 'ok' });
    expect(s.connections()).toBe(1);
  });

  it('holds requests beyond the connection cap until a connection is free', async () => {
    const s = await rawServer((socket) => setTimeout(() => socket.write(OK), 20));
    const t = open(s.server, s.url, { connections: 1 });
    const runs = [collect(), collect(), collect()];
    for (const r of runs) t.request(POST, r.handler);
    for (const r of runs) expect(await r.done).toMatchObject({ status: 200, body: 'ok' });
    expect(s.connections()).toBe(1);
  });

  it('reports a refused connection as connect_refused, replayable', async () => {
    const s = await rawServer(() => {});
    const url = s.url;
    await new Promise((resolve) => s.server.close(resolve));
    const t = createTransport(url, { keepAliveMs: 10_000 });
    cleanup.push(() => t.close());
    const { error } = await one(t);
    expect([error?.code, error?.replayable]).toEqual(['connect_refused', true]);
  });

  it('reports a response cut off mid-body as an error, never as an end, and not replayable', async () => {
    const s = await rawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n');
      setTimeout(() => socket.destroy(), 10);
    });
    const t = open(s.server, s.url);
    const outcome = await one(t);
    expect(outcome.body).toBe('hello');
    expect(outcome.error?.replayable).toBe(false);
    expect(outcome.error?.code).toBe('connection_closed');
  });

  it('keeps response headers in a null-prototype object (Constructor: x is a header)', async () => {
    const s = await rawServer((socket) => socket.write('HTTP/1.1 200 OK\r\nConstructor: x\r\ncontent-length: 2\r\n\r\nok'));
    const t = open(s.server, s.url);
    const { headers } = await one(t);
    expect(headers!.constructor).toBe('x');
    expect(Object.getPrototypeOf(headers)).toBe(null);
  });

  it('refuses status codes outside 100-599 as bad_response', async () => {
    const s = await rawServer((socket) => socket.write('HTTP/1.1 600 Odd\r\ncontent-length: 2\r\n\r\nok'));
    const t = open(s.server, s.url);
    expect((await one(t)).error?.code).toBe('bad_response');
  });

  it('refuses to send a header value holding CR or LF (nothing reaches the server)', async () => {
    let requests = 0;
    const s = await rawServer((socket) => {
      requests++;
      socket.write(OK);
    });
    const t = open(s.server, s.url);
    const { error } = await one(t, { ...POST, headers: { authorization: 'Bearer sk-1\r\nx-evil: 1' } });
    expect(error?.code).toBe('invalid_request_header');
    expect(requests).toBe(0);
  });

  it('sends a request\'s own headers after the shared ones, checks them on every request, and never caches them', async () => {
    const heads: string[] = [];
    const s = await rawServer((socket, head) => {
      heads.push(head);
      socket.write(OK);
    });
    const t = open(s.server, s.url);
    const shared = { 'content-type': 'application/json' };
    await one(t, { ...POST, headers: shared, requestHeaders: { 'x-request-id': 'a' } });
    await one(t, { ...POST, headers: shared, requestHeaders: { 'x-request-id': 'b' } });
    const { error } = await one(t, { ...POST, headers: shared, requestHeaders: { 'x-request-id': 'c\r\nx-evil: 1' } });
    expect(heads.map((h) => /x-request-id: (.*)/.exec(h)?.[1])).toEqual(['a', 'b']);
    expect(heads[0]).toMatch(/content-type: application\/json\r\nx-request-id: a/);
    expect(error?.code).toBe('invalid_request_header');
  });

  it('never sends a POST twice: a reused connection closed before the answer fails, it is not re-sent', async () => {
    const seen: number[] = [];
    // The second request on every connection finds it closed, as when a server's keep-alive timer fires.
    const s = await rawServer((socket, _head, nth) => {
      seen.push(nth);
      if (nth === 1) socket.write(OK);
      else socket.destroy();
    });
    const t = open(s.server, s.url);
    expect((await one(t)).status).toBe(200);
    const second = await one(t);
    expect(second.error).toBeDefined();
    expect(seen).toEqual([1, 2]);
    expect([second.error?.code, second.error?.replayable]).toEqual(['stale_connection', true]);
  });

  it('abort closes the connection at once, so the server sees the client go', async () => {
    const s = await rawServer((socket) => socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n'));
    const t = open(s.server, s.url);
    const { handler, done } = collect();
    const reason = new Error('client left');
    const control = t.request(POST, {
      ...handler,
      // Called on a later read, once request() has returned.
      onData: (data, framed, more) => {
        handler.onData(data, framed, more);
        control.abort(reason);
      },
    });
    const outcome = await done;
    expect(outcome.error?.message).toBe('client left');
    expect(control.aborted).toBe(true);
    await s.closed[0];
    expect(t.connections).toBe(0);
  });

  it('writes the request whole: request line, host, the given headers, content-length', async () => {
    const heads: string[] = [];
    const s = await rawServer((socket, head) => {
      heads.push(head);
      socket.write(OK);
    });
    const t = open(s.server, s.url);
    await one(t);
    expect(heads[0]).toMatch(/^POST \/v1\/chat\/completions HTTP\/1\.1\r\nhost: 127\.0\.0\.1:\d+\r\ncontent-type: application\/json\r\ncontent-length: 7$/);
  });

  it('stops reusing connections the server says it closes at once (Keep-Alive: timeout=1)', async () => {
    const s = await rawServer((socket) => socket.write('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1\r\ncontent-length: 2\r\n\r\nok'));
    const t = open(s.server, s.url);
    for (let i = 0; i < 2; i++) await one(t);
    expect(s.connections()).toBe(2);
  });

  it('checks an idle socket before reusing it: one the server half-closed is not written to', async () => {
    const s = await rawServer((socket) => socket.end(OK));
    const t = open(s.server, s.url);
    expect((await one(t)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await one(t)).status).toBe(200);
    expect(s.connections()).toBe(2);
  });

  it('hands on a whole canonical chunk frame with its framing', async () => {
    const s = await rawServer((socket) => socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'));
    const t = open(s.server, s.url);
    const frames: (string | undefined)[] = [];
    const { handler, done } = collect();
    t.request(POST, { ...handler, onData: (data, framed, more) => {
      frames.push(framed?.toString('latin1'));
      handler.onData(data, framed, more);
    } });
    await done;
    expect(frames).toEqual(['5\r\nhello\r\n']);
  });
});

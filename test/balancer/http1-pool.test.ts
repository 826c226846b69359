import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Http1Pool, type UpstreamHandler } from '../../src/balancer/index.js';

/** A raw TCP server: `answer` gets each request's head and the connection's request count. */
async function rawServer(answer: (socket: Socket, head: string, nth: number) => void): Promise<{ server: Server; url: string; connections: () => number; closed: Promise<void>[] }> {
  let connections = 0;
  const closed: Promise<void>[] = [];
  const server = createServer((socket) => {
    connections++;
    closed.push(new Promise((resolve) => socket.on('close', () => resolve())));
    let buffered = '';
    let nth = 0;
    socket.on('data', (bytes) => {
      buffered += bytes.toString('latin1');
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buffered.slice(0, end);
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        buffered = buffered.slice(end + 4 + length);
        answer(socket, head, ++nth);
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections, closed };
}

interface Outcome {
  status?: number;
  body: string;
  error?: Error & { code?: string };
}

function collect(): { handler: UpstreamHandler; done: Promise<Outcome> } {
  const outcome: Outcome = { body: '' };
  let finish!: (o: Outcome) => void;
  const done = new Promise<Outcome>((resolve) => (finish = resolve));
  return {
    done,
    handler: {
      onStart: (status) => (outcome.status = status),
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

function track(server: Server, pool: Http1Pool): void {
  cleanup.push(async () => {
    await pool.close();
    await new Promise((resolve) => server.close(resolve));
  });
}

describe('Http1Pool', () => {
  it('sends the request whole and reuses one keep-alive connection for requests in sequence', async () => {
    const heads: string[] = [];
    const s = await rawServer((socket, head) => {
      heads.push(head);
      socket.write(OK);
    });
    const pool = new Http1Pool(s.url, { keepAliveMs: 10_000 });
    track(s.server, pool);
    for (let i = 0; i < 3; i++) {
      const { handler, done } = collect();
      pool.request(POST, handler);
      expect(await done).toEqual({ status: 200, body: 'ok' });
    }
    expect(s.connections()).toBe(1);
    expect(heads[0]).toMatch(/^POST \/v1\/chat\/completions HTTP\/1\.1\r\nhost: 127\.0\.0\.1:\d+\r\ncontent-type: application\/json\r\ncontent-length: 7$/);
  });

  it('holds requests beyond the connection cap until a connection is free', async () => {
    const s = await rawServer((socket) => setTimeout(() => socket.write(OK), 20));
    const pool = new Http1Pool(s.url, { keepAliveMs: 10_000, connections: 1 });
    track(s.server, pool);
    const runs = [collect(), collect(), collect()];
    for (const r of runs) pool.request(POST, r.handler);
    for (const r of runs) expect(await r.done).toEqual({ status: 200, body: 'ok' });
    expect(s.connections()).toBe(1);
  });

  it('sends a request again on a new connection when a reused one closes without answering', async () => {
    // The second request on every connection finds it closed, as when a server's keep-alive timer fires.
    const s = await rawServer((socket, _head, nth) => (nth === 1 ? socket.write(OK) : socket.destroy()));
    const pool = new Http1Pool(s.url, { keepAliveMs: 10_000 });
    track(s.server, pool);
    for (let i = 0; i < 2; i++) {
      const { handler, done } = collect();
      pool.request(POST, handler);
      expect(await done).toEqual({ status: 200, body: 'ok' });
    }
    expect(s.connections()).toBe(2);
  });

  it('stops reusing connections the server says it closes at once (Keep-Alive: timeout=1)', async () => {
    const s = await rawServer((socket) => socket.write('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1\r\ncontent-length: 2\r\n\r\nok'));
    const pool = new Http1Pool(s.url, { keepAliveMs: 10_000 });
    track(s.server, pool);
    for (let i = 0; i < 2; i++) {
      const { handler, done } = collect();
      pool.request(POST, handler);
      await done;
    }
    expect(s.connections()).toBe(2);
  });

  it('reports a refused connection with its code', async () => {
    const s = await rawServer(() => {});
    const url = s.url;
    await new Promise((resolve) => s.server.close(resolve));
    const pool = new Http1Pool(url, { keepAliveMs: 10_000 });
    cleanup.push(() => pool.close());
    const { handler, done } = collect();
    pool.request(POST, handler);
    expect((await done).error?.code).toBe('ECONNREFUSED');
  });

  it('reports a response cut off mid-body as an error, never as an end', async () => {
    const s = await rawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n');
      setTimeout(() => socket.destroy(), 10);
    });
    const pool = new Http1Pool(s.url, { keepAliveMs: 10_000 });
    track(s.server, pool);
    const { handler, done } = collect();
    pool.request(POST, handler);
    const outcome = await done;
    expect(outcome.body).toBe('hello');
    expect(outcome.error?.message).toMatch(/before the end of the response/);
  });

  it('abort closes the connection at once, so the server sees the client go', async () => {
    const s = await rawServer((socket) => socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n'));
    const pool = new Http1Pool(s.url, { keepAliveMs: 10_000 });
    track(s.server, pool);
    const { handler, done } = collect();
    const reason = new Error('client left');
    const control = pool.request(POST, {
      ...handler,
      // Called on a later read, once request() has returned.
      onData: (data, framed, more) => {
        handler.onData(data, framed, more);
        control.abort(reason);
      },
    });
    const outcome = await done;
    expect(outcome.error).toBe(reason);
    expect(control.aborted).toBe(true);
    await s.closed[0];
    expect(pool.connections).toBe(0);
  });
});

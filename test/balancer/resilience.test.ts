import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Admission, CircuitBreaker, ExpertPool, OutlierDetector, OutlierState, probe } from '../../src/balancer/index.js';
import { ApiError } from '../../src/protocol/index.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) await f();
});

describe('CircuitBreaker', () => {
  it('opens after consecutive failures, admits one trial when half-open, and closes on its success', () => {
    const b = new CircuitBreaker({ failureThreshold: 3, openMs: 1_000 });
    b.failure(0);
    b.failure(1);
    expect(b.state(2)).toBe('closed');
    b.success();
    b.failure(3);
    b.failure(4);
    expect(b.state(5)).toBe('closed');
    b.failure(6);
    expect([b.state(7), b.admits(7), b.retryInMs(7)]).toEqual(['open', false, 999]);
    expect([b.state(1_006), b.admits(1_006)]).toEqual(['half_open', true]);
    b.taken(1_006);
    expect(b.admits(1_007)).toBe(false);
    b.success();
    expect([b.state(1_008), b.admits(1_008)]).toEqual(['closed', true]);
  });

  it('opens again when the half-open trial fails, and frees the trial when it says nothing', () => {
    const b = new CircuitBreaker({ failureThreshold: 1, openMs: 100 });
    b.failure(0);
    b.taken(100);
    b.neutral();
    expect(b.admits(101)).toBe(true);
    b.taken(101);
    b.failure(102);
    expect(b.state(103)).toBe('open');
  });
});

describe('OutlierDetector', () => {
  it('ejects after consecutive failures for a growing interval, never the last replica in rotation', () => {
    const d = new OutlierDetector({ consecutiveFailures: 2, baseEjectionMs: 100, maxEjectionMs: 250 });
    const a = new OutlierState();
    const b = new OutlierState();
    expect(d.failure(a, [b], 0)).toBe(false);
    expect(d.failure(a, [b], 1)).toBe(true);
    expect([a.ejected(100), a.ejected(101)]).toEqual([true, false]);
    // b cannot be ejected while a is out: one replica must stay.
    d.failure(b, [a], 2);
    expect(d.failure(b, [a], 3)).toBe(false);
    d.failure(a, [b], 200);
    expect(d.failure(a, [b], 201)).toBe(true);
    expect([a.ejected(400), a.ejected(401)]).toEqual([true, false]);
    d.failure(a, [b], 500);
    expect(d.failure(a, [b], 501)).toBe(true);
    // Capped at maxEjectionMs.
    expect([a.ejected(750), a.ejected(751)]).toEqual([true, false]);
  });

  it('a success resets the count', () => {
    const d = new OutlierDetector({ consecutiveFailures: 2, baseEjectionMs: 100, maxEjectionMs: 1_000 });
    const a = new OutlierState();
    d.failure(a, [new OutlierState()], 0);
    d.success(a, 1);
    expect(d.failure(a, [new OutlierState()], 2)).toBe(false);
  });
});

describe('ExpertPool', () => {
  it('takes a replica out of rotation by its breaker and by ejection, and says when one is back', async () => {
    const pool = new ExpertPool('e', ['http://127.0.0.1:1', 'http://127.0.0.1:2'], { maxQueue: 1, keepAliveMs: 1_000, breaker: { failureThreshold: 1, openMs: 60_000 }, outlier: { consecutiveFailures: 1, baseEjectionMs: 60_000, maxEjectionMs: 60_000 } });
    cleanup.push(() => pool.close());
    const [a, b] = pool.replicas;
    expect(pool.report(a, 'transport_failure')).toBe('circuit_open');
    expect(pool.pick()).toBe(b);
    expect(pool.pick()).toBe(b);
    expect(pool.report(b, 'server_failure')).toBe('ejected');
    expect(pool.pick()).toBeUndefined();
    expect(pool.circuitOpen).toBe(true);
    expect(pool.retryAfterMs()).toBeGreaterThan(59_000);
  });
});

describe('Admission', () => {
  it('answers 429 with Retry-After when the queue is full, 503 queue_timeout past the wait limit, client_closed when the client leaves', async () => {
    const admission = new Admission(1, 1, 50);
    expect(admission.tryAcquire()).toBe(true);
    const gone = new AbortController();
    const waiting = admission.wait(gone.signal);
    const full = await admission.wait(new AbortController().signal).catch((e: ApiError) => e);
    expect([full instanceof ApiError && full.code, (full as ApiError).retryAfterS]).toEqual(['overloaded', 1]);
    const timedOut = await waiting.catch((e: ApiError) => e);
    expect([(timedOut as ApiError).code, (timedOut as ApiError).status, (timedOut as ApiError).retryAfterS]).toEqual(['queue_timeout', 503, 1]);
    expect(admission.queued).toBe(0);
    const leaving = admission.wait(gone.signal);
    gone.abort();
    expect(((await leaving.catch((e: ApiError) => e)) as ApiError).code).toBe('client_closed');
    admission.release();
    expect(admission.inFlight).toBe(0);
  });
});

describe('health probes', () => {
  it('answer on their own connection while traffic holds the only pooled connection', async () => {
    const held: Socket[] = [];
    const server = createServer((socket) => {
      socket.on('data', (bytes) => {
        const head = bytes.toString('latin1');
        if (head.startsWith('GET /health')) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
        // Traffic: the answer never comes (a long generation holding the connection).
        else held.push(socket);
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const pool = new ExpertPool('e', [url], { maxQueue: 1, keepAliveMs: 1_000, connections: 1 });
    cleanup.push(async () => {
      await pool.close();
      await new Promise((resolve) => server.close(resolve));
    });
    const replica = pool.replicas[0];
    const errors: string[] = [];
    replica.transport.request({ method: 'POST', path: '/v1/chat/completions', headers: {}, body: '{}' }, { onStart: () => {}, onData: () => {}, onEnd: () => {}, onError: (e) => errors.push(e.code) });
    await expect.poll(() => held.length).toBe(1);
    expect(await probe(replica, '/health', 1_000)).toBe(true);
    expect(errors).toEqual([]);
  });
});

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../src/gateway/index.js';
import { SseParser } from '../../src/protocol/index.js';
import { completionRequests, startTestOpenAIStub, type TestOpenAIStub } from '../helpers/openai-stub.js';
import { chat, openaiExpert, postJson, startTestGateway } from './setup.js';

/** A loopback port with nothing listening on it (connections are refused). */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function errorOf(res: Response): Promise<{ code: string; message: string; param: string | null; type: string }> {
  expect(res.headers.get('content-type')).toBe('application/json');
  return ((await res.json()) as { error: { code: string; message: string; param: string | null; type: string } }).error;
}

async function sseEvents(res: Response): Promise<{ events: { event: string | undefined; data: string }[]; pending: string }> {
  const parser = new SseParser();
  const events = parser.push(await res.text());
  return { events, pending: parser.pending };
}

const stubs: TestOpenAIStub[] = [];
let gw: RunningGateway | undefined;

async function stub(name: string, behavior: Parameters<typeof startTestOpenAIStub>[1] = {}, port = 0): Promise<TestOpenAIStub> {
  const s = await startTestOpenAIStub(name, behavior, port);
  stubs.push(s);
  return s;
}

afterEach(async () => {
  await gw?.close();
  gw = undefined;
  await Promise.all(stubs.splice(0).map((s) => s.close()));
});

describe('upstream failures', () => {
  it('fails over to another replica when one refuses connections, marks it down, and takes it back after a health check', async () => {
    const dying = await stub('dying');
    const live = await stub('live');
    gw = await startTestGateway([openaiExpert('general', [dying.url, live.url], [])], { health: { interval_ms: 60_000, timeout_ms: 500 }, expose_topology: true });
    await gw.checkHealth();
    const port = dying.port;
    await dying.close();
    for (let i = 0; i < 4; i++) {
      const res = await postJson(`${gw.url}/v1/chat/completions`, chat('hello'));
      expect(res.status).toBe(200);
      expect(res.headers.get('x-expert-router-replica')).toBe(live.url);
      await res.body?.cancel();
    }
    const metrics = await gw.metrics.text();
    expect(metrics).toMatch(/expert_router_retries_total\{expert="general"\} [12]\n/);
    expect(metrics).toContain(`expert_router_replica_up{expert="general",replica="http://127.0.0.1:${port}"} 0`);

    const revived = await stub('revived', {}, port);
    await gw.checkHealth();
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const res = await postJson(`${gw.url}/v1/chat/completions`, chat('hello'));
      seen.add(res.headers.get('x-expert-router-replica')!);
      await res.body?.cancel();
    }
    expect(seen).toEqual(new Set([live.url, revived.url]));
  });

  it('answers 503 when a health check found no replica up', async () => {
    const port = await deadPort();
    gw = await startTestGateway([openaiExpert('general', [`http://127.0.0.1:${port}`], [])], { health: { interval_ms: 60_000, timeout_ms: 500 } });
    await gw.checkHealth();
    const res = await postJson(`${gw.url}/v1/chat/completions`, chat('hello'));
    expect(res.status).toBe(503);
    expect((await errorOf(res)).code).toBe('no_healthy_replica');
    const ready = await fetch(`${gw.url}/readyz`);
    expect(ready.status).toBe(503);
    expect((await errorOf(ready)).code).toBe('not_ready');
  });

  it('retries a 5xx on the other replica once, then answers 502 naming the upstream problem', async () => {
    const broken = await stub('broken', { mode: 'error500' });
    const good = await stub('good');
    gw = await startTestGateway([openaiExpert('general', [broken.url, good.url], [])]);
    const res = await postJson(`${gw.url}/v1/chat/completions`, chat('hello', { stream: true }));
    expect(res.status).toBe(200);
    await res.text();
    expect(completionRequests(broken).length + completionRequests(good).length).toBe(2);

    good.behavior.mode = 'error500';
    const failed = await postJson(`${gw.url}/v1/chat/completions`, chat('hello'));
    expect(failed.status).toBe(502);
    expect(failed.headers.get('x-expert-router-expert')).toBe('general');
    const err = await errorOf(failed);
    expect(err.code).toBe('upstream_error');
    expect(err.message).toMatch(/upstream answered 500: (broken|good) is broken/);
  });

  it('answers 502 when the only replica refuses, then 503 while it is down', async () => {
    const dying = await stub('dying');
    gw = await startTestGateway([openaiExpert('general', [dying.url], [])], { health: { interval_ms: 60_000, timeout_ms: 500 } });
    await gw.checkHealth();
    await dying.close();
    let first = await postJson(`${gw.url}/v1/chat/completions`, chat('hello'));
    // A pooled connection that the closed server reset fails first; the next try is refused.
    if (first.status === 502 && (await errorOf(first.clone())).message.includes('other side closed')) {
      first = await postJson(`${gw.url}/v1/chat/completions`, chat('hello'));
    }
    expect(first.status).toBe(502);
    expect((await errorOf(first)).code).toBe('upstream_unreachable');
    const second = await postJson(`${gw.url}/v1/chat/completions`, chat('hello'));
    expect(second.status).toBe(503);
    expect((await errorOf(second)).code).toBe('no_healthy_replica');
  });

  it('answers 504 when no first token comes within timeout_ms, and aborts the upstream request', async () => {
    const slow = await stub('slow', { mode: 'stall' });
    gw = await startTestGateway([openaiExpert('general', [slow.url], [], { timeout_ms: 150 })]);
    for (const stream of [true, false]) {
      const seen = slow.aborted;
      const started = performance.now();
      const res = await postJson(`${gw.url}/v1/chat/completions`, chat('hello', { stream }));
      expect(res.status).toBe(504);
      expect((await errorOf(res)).code).toBe('upstream_timeout');
      expect(performance.now() - started).toBeLessThan(2_000);
      await slow.waitForAbort(seen);
    }
  });

  it('ends a stream that breaks midway with an SSE error event and no [DONE]', async () => {
    const flaky = await stub('flaky', { mode: 'midstream-drop' });
    gw = await startTestGateway([openaiExpert('general', [flaky.url], [])]);
    for (const mode of ['midstream-drop', 'no-done'] as const) {
      flaky.behavior.mode = mode;
      const res = await postJson(`${gw.url}/v1/chat/completions`, chat('hello', { stream: true }));
      expect(res.status).toBe(200);
      const { events, pending } = await sseEvents(res);
      expect(pending).toBe('');
      const last = events.at(-1)!;
      expect(last.event).toBe('error');
      expect(JSON.parse(last.data).error.code).toBe('upstream_stream_error');
      expect(events.some((e) => e.data === '[DONE]')).toBe(false);
      expect(events.filter((e) => e.event !== 'error').length).toBeGreaterThanOrEqual(mode === 'no-done' ? 3 : 1);
    }
  });

  it('aborts the upstream request as soon as the client disconnects', async () => {
    const long = await stub('long', { tokens: 1_000, itlMs: 20 });
    gw = await startTestGateway([openaiExpert('general', [long.url], [])]);
    const controller = new AbortController();
    const res = await postJson(`${gw.url}/v1/chat/completions`, chat('hello', { stream: true }), { signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    const abortedAt = performance.now();
    controller.abort();
    await long.waitForAbort();
    expect(performance.now() - abortedAt).toBeLessThan(1_000);
    await expect.poll(() => gw!.metrics.text(), { timeout: 5_000 }).toMatch(/expert_router_in_flight_requests\{expert="general",replica="[^"]+"\} 0/);
  });

  it('holds requests beyond max_concurrency in a queue and answers 429 when the queue is full', async () => {
    const s = await stub('capped', { tokens: 4, itlMs: 250 });
    gw = await startTestGateway([openaiExpert('general', [s.url], [], { max_concurrency: 1 })], { limits: { max_queue: 1 } });
    const first = postJson(`${gw.url}/v1/chat/completions`, chat('hello', { stream: true }));
    await expect.poll(() => completionRequests(s).length, { timeout: 5_000 }).toBe(1);
    const second = postJson(`${gw.url}/v1/chat/completions`, chat('hello', { stream: true }));
    await expect.poll(() => gw!.router.expert('general')!.pool.admission!.queued, { timeout: 5_000 }).toBe(1);
    const third = await postJson(`${gw.url}/v1/chat/completions`, chat('hello'));
    expect(third.status).toBe(429);
    expect((await errorOf(third)).code).toBe('overloaded');
    const [a, b] = await Promise.all([first, second]);
    expect(await a.text()).toContain('[DONE]');
    expect(await b.text()).toContain('[DONE]');
    expect(completionRequests(s).length).toBe(2);
  });
});

describe('bad input', () => {
  it('answers 400, 413, 404 and 405 with OpenAI-style bodies naming the problem, and the gateway headers', async () => {
    const s = await stub('general');
    gw = await startTestGateway([openaiExpert('general', [s.url], [])], { limits: { body_bytes: 2_000 } });
    const url = `${gw.url}/v1/chat/completions`;
    const cases: [Promise<Response>, number, string, RegExp, string | null][] = [
      [postJson(url, '{"model": "auto", "messages": ['), 400, 'invalid_json', /not valid JSON/, null],
      [postJson(url, '[1, 2]'), 400, 'invalid_json', /must be a JSON object/, null],
      [postJson(url, { model: 'auto' }), 400, 'invalid_request', /'messages'/, 'messages'],
      [postJson(url, chat('hi', { temperature: 'hot' })), 400, 'invalid_request', /'temperature'/, 'temperature'],
      [postJson(url, { model: 'auto', messages: [{ role: 'wizard', content: 'x' }] }), 400, 'invalid_request', /'messages.0.role'/, 'messages.0.role'],
      [postJson(`${gw.url}/v1/completions`, { model: 'auto' }), 400, 'invalid_request', /'prompt'/, 'prompt'],
      [postJson(url, chat('x'.repeat(5_000))), 413, 'body_too_large', /exceeds the limit of 2000 bytes/, null],
      [fetch(`${gw.url}/v1/nothing`), 404, 'not_found', /no route for GET \/v1\/nothing/, null],
      [fetch(url), 405, 'method_not_allowed', /allowed: POST/, null],
    ];
    for (const [pending, status, code, message, param] of cases) {
      const res = await pending;
      expect(res.status).toBe(status);
      expect(res.headers.get('x-expert-router-expert')).toBe('none');
      expect(res.headers.get('x-expert-router-cluster')).toBe('none');
      expect(res.headers.get('server-timing')).toMatch(/^gateway;dur=/);
      const err = await errorOf(res);
      expect(err.code).toBe(code);
      expect(err.message).toMatch(message);
      expect(err.param).toBe(param);
    }
    expect(completionRequests(s)).toHaveLength(0);
  });

  it('answers a 400 from the expert as a 400 with its message, without retrying', async () => {
    const s = await stub('general', { mode: 'error400' });
    const other = await stub('other', { mode: 'error400' });
    gw = await startTestGateway([openaiExpert('general', [s.url, other.url], [])]);
    const res = await postJson(`${gw.url}/v1/chat/completions`, chat('hi'));
    expect(res.status).toBe(400);
    const err = await errorOf(res);
    expect(err.code).toBe('invalid_request');
    expect(err.message).toBe('upstream answered 400: prompt is too long');
    expect(completionRequests(s).length + completionRequests(other).length).toBe(1);
  });
});

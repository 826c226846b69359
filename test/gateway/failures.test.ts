import { createServer } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { openaiBackend } from '../../src/backends/index.js';
import { parseGatewayConfig } from '../../src/config/index.js';
import { startGateway, type RunningGateway } from '../../src/gateway/index.js';
import { SseParser } from '../../src/protocol/index.js';
import { completionRequests, startTestOpenAIStub, type TestOpenAIStub } from '../helpers/openai-stub.js';
import { SSE_HEAD, frame, rawUpstream, sseChunk, type RawUpstream } from '../transport/raw-upstream.js';
import { testClassifier } from './keyword-classifier.js';
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

  it('never retries a 500 (the model may have run): 502 with a message the gateway writes', async () => {
    const broken = await stub('broken', { mode: 'error500' });
    const good = await stub('good', { mode: 'error500' });
    gw = await startTestGateway([openaiExpert('general', [broken.url, good.url], [])]);
    const failed = await postJson(`${gw.url}/v1/chat/completions`, chat('hello'));
    expect(failed.status).toBe(502);
    expect(failed.headers.get('x-expert-router-expert')).toBe('general');
    const err = await errorOf(failed);
    expect(err.code).toBe('upstream_error');
    expect(err.message).toBe('the expert answered with status 500');
    expect(completionRequests(broken).length + completionRequests(good).length).toBe(1);
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

  it('answers a 400 from the expert as a 400 with a message of its own, without retrying', async () => {
    const s = await stub('general', { mode: 'error400' });
    const other = await stub('other', { mode: 'error400' });
    gw = await startTestGateway([openaiExpert('general', [s.url, other.url], [])]);
    const res = await postJson(`${gw.url}/v1/chat/completions`, chat('hi'));
    expect(res.status).toBe(400);
    const err = await errorOf(res);
    expect(err.code).toBe('invalid_request');
    expect(err.message).toBe('the expert refused the request as invalid (upstream status 400)');
    expect(completionRequests(s).length + completionRequests(other).length).toBe(1);
  });
});

// ---- the hardened transport, against raw TCP upstreams that misbehave ----------------------------

const raws: RawUpstream[] = [];
afterEach(async () => {
  await Promise.all(raws.splice(0).map((r) => r.close()));
});

async function raw(answer: Parameters<typeof rawUpstream>[0]): Promise<RawUpstream> {
  const r = await rawUpstream(answer);
  raws.push(r);
  return r;
}

/** A gateway whose log lines are kept (to check what is logged, and that secrets are not). */
async function loggedGateway(experts: Parameters<typeof startTestGateway>[0], extra: Parameters<typeof startTestGateway>[1] = {}): Promise<{ gw: RunningGateway; lines: string[] }> {
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
  const config = parseGatewayConfig({ listen: { host: '127.0.0.1', port: 0 }, experts, health: { interval_ms: 60_000, timeout_ms: 500 }, ...extra });
  return { gw: await startGateway(config, { classifier: testClassifier(), logger }), lines };
}

const OK_JSON = JSON.stringify({ id: 'x', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }] });
const okJson = (socket: Socket): void => {
  socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${OK_JSON.length}\r\n\r\n${OK_JSON}`);
};
const okStream = (socket: Socket): void => {
  socket.write(SSE_HEAD + frame(sseChunk('Hello')) + frame('data: [DONE]\n\n') + '0\r\n\r\n');
};

describe('transport hardening', () => {
  it('delivers a POST once when the connection is reset before any answer byte (it may have reached the model)', async () => {
    const reset = await raw((socket) => socket.destroy());
    const other = await raw(okJson);
    gw = await startTestGateway([openaiExpert('general', [reset.url, other.url], [])]);
    const results = await Promise.all([0, 1, 2, 3].map(() => postJson(`${gw!.url}/v1/chat/completions`, chat('hello'))));
    const statuses = results.map((r) => r.status);
    // Requests that went to the resetting replica fail; none is sent again anywhere.
    expect(reset.posts.length + other.posts.length).toBe(4);
    expect(statuses.filter((s) => s === 502).length).toBe(reset.posts.length);
    for (const r of results.filter((x) => x.status === 502)) expect((await errorOf(r)).code).toBe('upstream_unreachable');
    expect(await gw.metrics.text()).not.toMatch(/expert_router_retries_total\{expert="general"\} [1-9]/);
  });

  it('retries a stale keep-alive connection (closed before any answer) once, on a fresh connection', async () => {
    const s = await raw((socket, req) => (req.nth === 1 ? okJson(socket) : socket.destroy()));
    gw = await startTestGateway([openaiExpert('general', [s.url], [])]);
    expect((await postJson(`${gw.url}/v1/chat/completions`, chat('one'))).status).toBe(200);
    const second = await postJson(`${gw.url}/v1/chat/completions`, chat('two'));
    expect(second.status).toBe(200);
    // The stale connection got the request's bytes, but no model answered: one retry, counted once.
    expect(s.posts.length).toBe(3);
    expect(await gw.metrics.text()).toMatch(/expert_router_retries_total\{expert="general"\} 1\n/);
  });

  it('on 503 with Retry-After before the first byte, tries another replica; with none left, relays 503 and its Retry-After', async () => {
    const busy = (socket: Socket): void => {
      socket.write('HTTP/1.1 503 Service Unavailable\r\nretry-after: 7\r\ncontent-type: application/json\r\ncontent-length: 24\r\n\r\n{"error":"engine busy!"}');
    };
    const a = await raw(busy);
    const b = await raw(okJson);
    gw = await startTestGateway([openaiExpert('general', [a.url, b.url], []), openaiExpert('single', [a.url], [], { model: 'single-model' })]);
    for (let i = 0; i < 2; i++) {
      const res = await postJson(`${gw.url}/v1/chat/completions`, chat('hello'));
      expect(res.status).toBe(200);
      await res.text();
    }
    const only = await postJson(`${gw.url}/v1/chat/completions`, { ...chat('hello'), model: 'single' });
    expect(only.status).toBe(503);
    expect(only.headers.get('retry-after')).toBe('7');
    const err = await errorOf(only);
    expect([err.code, err.message.includes('engine busy')]).toEqual(['upstream_unavailable', false]);
  });

  it('keeps Retry-After of an upstream 429', async () => {
    const s = await raw((socket) => socket.write('HTTP/1.1 429 Too Many\r\nretry-after: 3\r\ncontent-length: 0\r\n\r\n'));
    gw = await startTestGateway([openaiExpert('general', [s.url], [])]);
    const res = await postJson(`${gw.url}/v1/chat/completions`, chat('hello'));
    expect([res.status, res.headers.get('retry-after'), (await errorOf(res)).code]).toEqual([429, '3', 'overloaded']);
  });

  it('ends a stream that stalls after its first byte with an SSE error event; upstream closed, admission and in-flight released', async () => {
    const s = await raw((socket) => socket.write(SSE_HEAD + frame(sseChunk('Hello'))));
    gw = await startTestGateway([openaiExpert('general', [s.url], [], { idle_timeout_ms: 200, max_concurrency: 1 })]);
    for (let i = 0; i < 2; i++) {
      const res = await postJson(`${gw.url}/v1/chat/completions`, chat('hello', { stream: true }));
      expect(res.status).toBe(200);
      const { events } = await sseEvents(res);
      expect(events.at(-1)!.event).toBe('error');
      expect(JSON.parse(events.at(-1)!.data).error.code).toBe('upstream_idle_timeout');
      expect(events.some((e) => e.data === '[DONE]')).toBe(false);
    }
    await expect.poll(() => s.closedSockets()).toBeGreaterThanOrEqual(2);
    expect(gw.router.expert('general')!.pool.admission!.inFlight).toBe(0);
    const metrics = await gw.metrics.text();
    expect(metrics).toMatch(/expert_router_in_flight_requests\{expert="general",replica="[^"]+"\} 0/);
    // A stream that failed midway is counted by its error, not as a 200.
    expect(metrics).toMatch(/expert_router_requests_total\{expert="general",replica="[^"]+",endpoint="\/v1\/chat\/completions",status="504"\} 2/);
    expect(metrics).not.toMatch(/status="200"/);
  });

  it('answers 504 before the status line when a non-streamed body stalls (content-length 1000, 10 bytes sent)', async () => {
    const s = await raw((socket) => socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"id":"x",'));
    gw = await startTestGateway([openaiExpert('general', [s.url], [], { idle_timeout_ms: 200, timeout_ms: 3_000 })]);
    const res = await postJson(`${gw.url}/v1/chat/completions`, chat('hello'));
    expect(res.status).toBe(504);
    expect((await errorOf(res)).code).toBe('upstream_idle_timeout');
  });

  it('ends a stream that runs past deadline_ms', async () => {
    const s = await raw((socket) => {
      socket.write(SSE_HEAD);
      const t = setInterval(() => (socket.destroyed ? clearInterval(t) : socket.write(frame(sseChunk('x')))), 20);
    });
    gw = await startTestGateway([openaiExpert('general', [s.url], [], { deadline_ms: 300 })]);
    const res = await postJson(`${gw.url}/v1/chat/completions`, chat('hello', { stream: true }));
    const { events } = await sseEvents(res);
    expect(JSON.parse(events.at(-1)!.data).error.code).toBe('upstream_deadline');
    await expect.poll(() => s.closedSockets()).toBe(1);
  });

  it('never hands the client what the upstream said: an upstream 401 echoing the API key stays in the log, redacted', async () => {
    const s = await raw((socket, req) => {
      const auth = /authorization: ([^\r\n]+)/i.exec(req.head)?.[1] ?? '';
      const body = JSON.stringify({ error: { message: `invalid credentials: authorization: ${auth}` } });
      socket.write(`HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
    });
    const { gw: g, lines } = await loggedGateway([openaiExpert('general', [s.url], [], { api_key: 'sk-topsecret-123456' })]);
    gw = g;
    const res = await postJson(`${gw.url}/v1/chat/completions`, chat('hello'));
    const text = await res.text();
    expect(res.status).toBe(502);
    expect(text).not.toContain('sk-topsecret');
    expect(text).not.toContain(s.url.replace('http://', ''));
    expect(res.headers.get('x-expert-router-replica')).toBe(null);
    expect(JSON.parse(text).error.message).toBe("the expert refused the gateway's credentials (upstream status 401)");
    const logged = lines.join('');
    expect(logged).toContain('invalid credentials');
    expect(logged).not.toContain('sk-topsecret');
  });

  it('answers 502 upstream_bad_response for a non-streamed 2xx that is cut short, HTML, SSE, or badly framed', async () => {
    const answers = [
      'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{"id":"x","choices":[{"mess',
      'HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 13\r\n\r\n<html></html>',
      `HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: 22\r\n\r\ndata: {"a":1}\n\ndata: x`,
      'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-length: 5\r\n\r\n2\r\n{}\r\n0\r\n\r\n',
      'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\rGARBAGE\r\n{}\r\n0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nx-a\t: b\r\ncontent-length: 2\r\n\r\n{}',
      'HTTP/1.1 099 OK\r\ncontent-length: 2\r\n\r\n{}',
    ];
    let n = 0;
    const s = await raw((socket) => socket.end(answers[n++]));
    gw = await startTestGateway([openaiExpert('general', [s.url], [])]);
    for (const answer of answers) {
      const res = await postJson(`${gw.url}/v1/chat/completions`, chat('hello'));
      expect(res.status, answer).toBe(502);
      expect((await errorOf(res)).code, answer).toBe('upstream_bad_response');
    }
  });

  it('ends a stream with junk in a chunk-size line midway with an SSE error event, never a clean end', async () => {
    const s = await raw((socket) => socket.end(SSE_HEAD + frame(sseChunk('Hello')) + `${(10).toString(16)}\rGARBAGE\r\n0123456789\r\n0\r\n\r\n`));
    gw = await startTestGateway([openaiExpert('general', [s.url], [])]);
    const res = await postJson(`${gw.url}/v1/chat/completions`, chat('hello', { stream: true }));
    expect(res.status).toBe(200);
    const { events } = await sseEvents(res);
    expect(events.at(-1)!.event).toBe('error');
    expect(await gw.metrics.text()).not.toMatch(/status="200"/);
  });

  it('gives no false error to a stream whose first bytes are data: [DONE]', async () => {
    const s = await raw((socket) => socket.end(SSE_HEAD + frame('data: [DONE]\n\n') + '0\r\n\r\n'));
    gw = await startTestGateway([openaiExpert('general', [s.url], [])]);
    const res = await postJson(`${gw.url}/v1/chat/completions`, chat('hello', { stream: true }));
    const { events } = await sseEvents(res);
    expect(events.map((e) => e.event ?? 'message')).toEqual(['message']);
    expect(events[0].data).toBe('[DONE]');
  });

  it("answers 500 internal_error for the gateway's own exception, logs it, and does not retry", async () => {
    const a = await raw(okStream);
    const b = await raw(okStream);
    const { gw: g, lines } = await loggedGateway([openaiExpert('general', [a.url, b.url], [])]);
    gw = g;
    const original = openaiBackend.streamRelay;
    openaiBackend.streamRelay = () => {
      throw new TypeError('a bug in the relay');
    };
    try {
      const res = await postJson(`${gw.url}/v1/chat/completions`, chat('hello', { stream: true }));
      expect(res.status).toBe(500);
      expect((await errorOf(res)).code).toBe('internal_error');
    } finally {
      openaiBackend.streamRelay = original;
    }
    expect(a.posts.length + b.posts.length).toBe(1);
    expect(lines.join('')).toContain('a bug in the relay');
  });

  it('ejects a replica that times out every request (outlier detection), never the last one, and opens the circuit of one that refuses', async () => {
    const slow = await raw(() => {});
    const good = await raw(okJson);
    gw = await startTestGateway([openaiExpert('general', [slow.url, good.url], [], { timeout_ms: 100 })], { resilience: { outlier_consecutive_failures: 2 } });
    for (let i = 0; i < 8; i++) await (await postJson(`${gw.url}/v1/chat/completions`, chat('hello'))).text();
    expect(slow.posts.length).toBe(2);
    expect(good.posts.length).toBe(6);
    expect(await gw.metrics.text()).toMatch(new RegExp(`expert_router_replica_ejected\\{expert="general",replica="${slow.url}"\\} 1`));
  });

  it('answers 503 circuit_open with Retry-After when every replica is out of rotation', async () => {
    const s = await raw((socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n'));
    gw = await startTestGateway([openaiExpert('general', [s.url], [])], { resilience: { breaker_failures: 2, breaker_open_ms: 30_000 } });
    for (let i = 0; i < 2; i++) expect((await postJson(`${gw.url}/v1/chat/completions`, chat('hello'))).status).toBe(502);
    const res = await postJson(`${gw.url}/v1/chat/completions`, chat('hello'));
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(29);
    expect((await errorOf(res)).code).toBe('circuit_open');
    expect(s.posts.length).toBe(2);
    expect(await gw.metrics.text()).toMatch(/expert_router_replica_circuit_state\{expert="general",replica="[^"]+"\} 1/);
  });

  it('answers 503 queue_timeout with Retry-After past the admission wait limit', async () => {
    const s = await raw(() => {});
    gw = await startTestGateway([openaiExpert('general', [s.url], [], { max_concurrency: 1, timeout_ms: 2_000 })], { limits: { queue_wait_ms: 150 } });
    const first = postJson(`${gw.url}/v1/chat/completions`, chat('hello'));
    await expect.poll(() => s.posts.length).toBe(1);
    const queued = await postJson(`${gw.url}/v1/chat/completions`, chat('hello'));
    expect([queued.status, queued.headers.get('retry-after'), (await errorOf(queued)).code]).toEqual([503, '1', 'queue_timeout']);
    expect((await first).status).toBe(504);
  });

  it('cuts off a client that stops reading: upstream closed, slot released, logged once', async () => {
    const s = await raw((socket) => {
      socket.write(SSE_HEAD);
      const big = frame(`data: ${'x'.repeat(60_000)}\n\n`);
      const t = setInterval(() => (socket.destroyed ? clearInterval(t) : socket.write(big)), 2);
    });
    const { gw: g, lines } = await loggedGateway([openaiExpert('general', [s.url], [], { max_concurrency: 1 })], { limits: { send_timeout_ms: 300 } });
    gw = g;
    const client = connect({ host: '127.0.0.1', port: gw.port });
    const body = JSON.stringify(chat('hello', { stream: true }));
    client.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
    // Read the first bytes, then never again.
    await new Promise((resolve) => client.once('data', resolve));
    client.pause();
    await expect.poll(() => s.closedSockets(), { timeout: 10_000 }).toBe(1);
    expect(gw.router.expert('general')!.pool.admission!.inFlight).toBe(0);
    expect(lines.filter((l) => l.includes('send timeout')).length).toBe(1);
    client.destroy();
  });

  it('refuses connections past the cap with a 503 at once, reading no request of them', async () => {
    const s = await raw(okJson);
    gw = await startTestGateway([openaiExpert('general', [s.url], [])], { limits: { client_connections: 2 } });
    const held = [connect({ host: '127.0.0.1', port: gw.port }), connect({ host: '127.0.0.1', port: gw.port })];
    await Promise.all(held.map((c) => new Promise((resolve) => c.once('connect', resolve))));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const extra = connect({ host: '127.0.0.1', port: gw.port });
    const body = JSON.stringify(chat('hello'));
    extra.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
    let answer = '';
    extra.on('data', (d: Buffer) => (answer += d.toString()));
    await new Promise((resolve) => extra.once('close', resolve));
    expect(answer).toMatch(/^HTTP\/1\.1 503 /);
    expect(answer).toContain('retry-after: 1');
    expect(answer).toContain('"code":"too_many_connections"');
    expect(s.posts.length).toBe(0);
    for (const c of held) c.destroy();
  });

  it('answers HEAD on GET routes', async () => {
    const s = await raw(okJson);
    gw = await startTestGateway([openaiExpert('general', [s.url], [])]);
    for (const path of ['/healthz', '/v1/models']) {
      const res = await fetch(`${gw.url}${path}`, { method: 'HEAD' });
      expect(res.status, path).toBe(200);
      expect(await res.text()).toBe('');
    }
  });
});

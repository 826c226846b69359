/**
 * The access log (one JSON line per request, never the prompt unless log.prompts), the request id
 * (honoured, generated, echoed, sent upstream), W3C trace context upstream, endpoint path prefixes
 * and the replica address shown only with expose_topology, over loopback.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGatewayConfig, type GatewayConfigInput } from '../../src/config/index.js';
import { startGateway, type RunningGateway } from '../../src/gateway/index.js';
import { completionRequests, startTestOpenAIStub, type TestOpenAIStub } from '../helpers/openai-stub.js';
import { testClassifier } from './keyword-classifier.js';
import { chat, openaiExpert, postJson } from './setup.js';

const PROMPT = 'write a python function that sorts my secret diary entries';
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface Logged {
  gw: RunningGateway;
  lines: () => Record<string, unknown>[];
  text: () => string;
}

async function loggedGateway(experts: GatewayConfigInput['experts'], extra: Partial<GatewayConfigInput> = {}): Promise<Logged> {
  let out = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      out += chunk.toString();
      done();
    },
  });
  const config = parseGatewayConfig({ listen: { host: '127.0.0.1', port: 0 }, experts, health: { interval_ms: 200, timeout_ms: 500 }, ...extra });
  const gw = await startGateway(config, { classifier: testClassifier(), logger: pino({ level: 'info' }, stream) });
  await gw.checkHealth();
  return {
    gw,
    text: () => out,
    lines: () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request'),
  };
}

/** The access-log line of a request id, once written (after the response ended). */
async function lineOf(log: Logged, id: string): Promise<Record<string, unknown>> {
  await expect.poll(() => log.lines().some((l) => l.request_id === id)).toBe(true);
  return log.lines().find((l) => l.request_id === id)!;
}

describe('access log and request ids', () => {
  let stubs: TestOpenAIStub[];
  let log: Logged;

  beforeAll(async () => {
    stubs = await Promise.all([startTestOpenAIStub('general'), startTestOpenAIStub('code', { tokens: 4 }), startTestOpenAIStub('math', { mode: 'midstream-drop' })]);
    log = await loggedGateway([openaiExpert('general', [stubs[0].url], []), openaiExpert('code', [stubs[1].url], ['code']), openaiExpert('math', [stubs[2].url], ['math'])], { default_expert: 'general' });
  });
  afterAll(async () => {
    await log.gw.close();
    await Promise.all(stubs.map((s) => s.close()));
  });

  it('writes one line per request with id, expert, replica, reason, status, TTFT, duration and tokens, never the prompt', async () => {
    const res = await postJson(`${log.gw.url}/v1/chat/completions`, chat(PROMPT, { stream: true }), { headers: { 'content-type': 'application/json', 'x-request-id': 'client-req-1' } });
    expect(res.headers.get('x-request-id')).toBe('client-req-1');
    expect(await res.text()).toContain('[DONE]');
    const line = await lineOf(log, 'client-req-1');
    expect(line).toMatchObject({ method: 'POST', path: '/v1/chat/completions', status: 200, expert: 'code', reason: 'classified', label: 'code', replica: stubs[1].url, stream: true, prompt_tokens: 5, completion_tokens: 4 });
    expect(line.confidence).toBe(1);
    expect(line.ttft_ms).toBeGreaterThan(0);
    expect(line.duration_ms).toBeGreaterThanOrEqual(line.ttft_ms as number);
    expect(line).not.toHaveProperty('error');
    expect(line).not.toHaveProperty('prompt');
    expect(log.lines().filter((l) => l.request_id === 'client-req-1')).toHaveLength(1);
    expect(log.text()).not.toContain('secret diary');
  });

  it('generates an id when the client sends none or an invalid one, echoes it and sends it upstream', async () => {
    for (const given of [undefined, 'has spaces in it', 'x'.repeat(129)]) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (given) headers['x-request-id'] = given;
      const res = await postJson(`${log.gw.url}/v1/chat/completions`, chat('hello'), { headers });
      await res.body?.cancel();
      const id = res.headers.get('x-request-id')!;
      expect(id).toMatch(UUID);
      expect(completionRequests(stubs[0]).at(-1)?.headers['x-request-id']).toBe(id);
      expect((await lineOf(log, id)).status).toBe(200);
    }
  });

  it('passes a valid traceparent and tracestate upstream unchanged, and drops an invalid one', async () => {
    const send = async (headers: Record<string, string>): Promise<void> => {
      const res = await postJson(`${log.gw.url}/v1/chat/completions`, chat('hello'), { headers: { 'content-type': 'application/json', ...headers } });
      await res.body?.cancel();
    };
    await send({ traceparent: TRACEPARENT, tracestate: 'vendor=abc' });
    expect(completionRequests(stubs[0]).at(-1)?.headers).toMatchObject({ traceparent: TRACEPARENT, tracestate: 'vendor=abc' });
    for (const bad of ['00-00000000000000000000000000000000-00f067aa0ba902b7-01', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', 'garbage']) {
      await send({ traceparent: bad, tracestate: 'vendor=abc' });
      expect(completionRequests(stubs[0]).at(-1)?.headers.traceparent).toBeUndefined();
      expect(completionRequests(stubs[0]).at(-1)?.headers.tracestate).toBeUndefined();
    }
  });

  it('logs failures with their status and stable code: before routing, at the decision and mid-stream', async () => {
    const notFound = await postJson(`${log.gw.url}/nope`, {}, { headers: { 'content-type': 'application/json', 'x-request-id': 'req-404' } });
    expect(notFound.headers.get('x-request-id')).toBe('req-404');
    await notFound.body?.cancel();
    expect(await lineOf(log, 'req-404')).toMatchObject({ status: 404, error: 'not_found', path: '/nope' });
    const unknown = await postJson(`${log.gw.url}/v1/chat/completions`, chat('hello', { model: 'gpt-x' }), { headers: { 'content-type': 'application/json', 'x-request-id': 'req-model' } });
    await unknown.body?.cancel();
    expect(await lineOf(log, 'req-model')).toMatchObject({ status: 404, error: 'model_not_found' });
    const broken = await postJson(`${log.gw.url}/v1/chat/completions`, chat('solve the equation', { stream: true }), { headers: { 'content-type': 'application/json', 'x-request-id': 'req-mid' } });
    expect(await broken.text()).toContain('event: error');
    expect(await lineOf(log, 'req-mid')).toMatchObject({ expert: 'math', error: 'upstream_stream_error', replica: stubs[2].url });
  });

  it('hides replica addresses from clients by default', async () => {
    const res = await postJson(`${log.gw.url}/v1/chat/completions`, chat('hello'));
    await res.body?.cancel();
    expect(res.headers.get('x-expert-router-replica')).toBeNull();
    const route = await (await postJson(`${log.gw.url}/v1/route`, chat('hello'))).text();
    expect(route).not.toContain('127.0.0.1');
    const ready = await (await fetch(`${log.gw.url}/readyz`)).text();
    expect(ready).not.toContain('127.0.0.1');
  });
});

describe('access log with log.prompts, topology exposed, endpoint path prefixes', () => {
  let stubs: TestOpenAIStub[];
  let log: Logged;

  beforeAll(async () => {
    stubs = await Promise.all([startTestOpenAIStub('general'), startTestOpenAIStub('code')]);
    log = await loggedGateway(
      [openaiExpert('general', [`${stubs[0].url}/v1`], []), openaiExpert('code', [`${stubs[1].url}/proxy/`], ['code'])],
      { default_expert: 'general', log: { prompts: true }, expose_topology: true },
    );
  });
  afterAll(async () => {
    await log.gw.close();
    await Promise.all(stubs.map((s) => s.close()));
  });

  it('holds the classified text in the line when log.prompts is true', async () => {
    const res = await postJson(`${log.gw.url}/v1/chat/completions`, chat(PROMPT), { headers: { 'content-type': 'application/json', 'x-request-id': 'req-prompt' } });
    await res.body?.cancel();
    expect((await lineOf(log, 'req-prompt')).prompt).toBe(PROMPT);
  });

  it('shows the replica with expose_topology: true', async () => {
    const res = await postJson(`${log.gw.url}/v1/chat/completions`, chat('hello'));
    await res.body?.cancel();
    expect(res.headers.get('x-expert-router-replica')).toBe(stubs[0].url);
    expect(((await (await postJson(`${log.gw.url}/v1/route`, chat('hello'))).json()) as { replica: string }).replica).toBe(stubs[0].url);
  });

  it('puts an endpoint path prefix before every upstream path, without repeating /v1', async () => {
    const res = await postJson(`${log.gw.url}/v1/chat/completions`, chat('hello'));
    expect(res.status).toBe(200);
    await res.body?.cancel();
    expect(completionRequests(stubs[0]).at(-1)?.path).toBe('/v1/chat/completions');
    const code = await postJson(`${log.gw.url}/v1/chat/completions`, chat('write python code'));
    await code.body?.cancel();
    expect(completionRequests(stubs[1]).at(-1)?.path).toBe('/proxy/v1/chat/completions');
    expect(stubs[1].requests.some((r) => r.method === 'GET' && r.path === '/proxy/v1/models')).toBe(true);
  });
});

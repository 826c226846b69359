import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGatewayConfig } from '../../src/config/index.js';
import { startGateway, type RunningGateway } from '../../src/gateway/index.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { completionRequests, startTestOpenAIStub, type TestOpenAIStub } from '../helpers/openai-stub.js';
import { chat, openaiExpert, postJson, startTestGateway } from './setup.js';

describe('routing by content', () => {
  let general: TestOpenAIStub;
  let code: TestOpenAIStub;
  let math: TestOpenAIStub;
  let gw: RunningGateway;

  beforeAll(async () => {
    [general, code, math] = await Promise.all([startTestOpenAIStub('general'), startTestOpenAIStub('code'), startTestOpenAIStub('math')]);
    gw = await startTestGateway(
      [openaiExpert('general', [general.url], []), openaiExpert('code', [code.url], ['code']), openaiExpert('math', [math.url], [2])],
      { default_expert: 'general' },
    );
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all([general.close(), code.close(), math.close()]);
  });

  it('sends each prompt to the expert of its cluster, with the expert model name and the gateway headers', async () => {
    const cases = [
      ['write a python function to reverse a list', 'code', '1'],
      ['solve this equation and the integral', 'math', '2'],
      ['what is the weather like', 'general', '0'],
    ] as const;
    for (const [prompt, expert, cluster] of cases) {
      const res = await postJson(`${gw.url}/v1/chat/completions`, chat(prompt));
      expect(res.status).toBe(200);
      expect(res.headers.get('x-expert-router-expert')).toBe(expert);
      expect(res.headers.get('x-expert-router-cluster')).toBe(cluster);
      expect(res.headers.get('server-timing')).toMatch(/^gateway;dur=\d+\.\d{3}, classify;dur=\d+\.\d{3}$/);
      const body = (await res.json()) as { choices: { message: { content: string } }[] };
      expect(body.choices[0].message.content).toContain(expert);
    }
    expect(completionRequests(code).at(-1)?.body?.model).toBe('code-model');
    expect(completionRequests(math).at(-1)?.body?.model).toBe('math-model');
  });

  it('classifies the first user message plus the system prompt by default, so a conversation stays with its expert', async () => {
    const res = await postJson(`${gw.url}/v1/chat/completions`, {
      model: 'auto',
      messages: [
        { role: 'system', content: 'you are a helpful assistant' },
        { role: 'user', content: 'solve the integral' },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: [{ type: 'text', text: 'now write python code for it' }] },
      ],
    });
    expect(res.headers.get('x-expert-router-expert')).toBe('math');
    await res.body?.cancel();
  });

  it('routes completions by their prompt, and a request naming an expert to that expert', async () => {
    const res = await postJson(`${gw.url}/v1/completions`, { model: 'auto', prompt: 'solve the equation', max_tokens: 2 });
    expect(res.headers.get('x-expert-router-expert')).toBe('math');
    expect(((await res.json()) as { choices: { text: string }[] }).choices[0].text).toContain('math');

    const named = await postJson(`${gw.url}/v1/chat/completions`, { ...chat('write python code'), model: 'general' });
    expect(named.headers.get('x-expert-router-expert')).toBe('general');
    expect(named.headers.get('x-expert-router-cluster')).toBe('none');
    await named.body?.cancel();
  });

  it('answers a dry run on /v1/route with the decision and scores, forwarding nothing', async () => {
    const before = completionRequests(code).length;
    const res = await postJson(`${gw.url}/v1/route`, { messages: [{ role: 'user', content: 'python function' }] });
    expect(res.status).toBe(200);
    const decision = (await res.json()) as Record<string, unknown>;
    expect(decision).toMatchObject({ expert: 'code', protocol: 'openai', model: 'code-model', reason: 'classified', cluster: 1, label: 'code' });
    expect(decision).not.toHaveProperty('replica');
    expect(decision.scores).toHaveLength(3);
    expect((decision.scores as { expert: string }[]).map((s) => s.expert)).toEqual(['general', 'code', 'math']);
    expect(completionRequests(code).length).toBe(before);

    const fallback = (await (await postJson(`${gw.url}/v1/route`, { prompt: 'hello there' })).json()) as Record<string, unknown>;
    expect(fallback).toMatchObject({ expert: 'general', reason: 'classified', cluster: 0 });
  });

  it('lists the experts plus auto on /v1/models', async () => {
    const res = await fetch(`${gw.url}/v1/models`);
    expect(res.headers.get('x-expert-router-expert')).toBe('none');
    const body = (await res.json()) as { data: { id: string }[] };
    expect(body.data.map((m) => m.id)).toEqual(['auto', 'general', 'code', 'math']);
  });

  it('reports health and readiness once every expert answered', async () => {
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
    await gw.checkHealth();
    const ready = await fetch(`${gw.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { ready: boolean }).ready).toBe(true);
  });
});

describe('routing with the built-in default classifier', () => {
  let stubs: TestOpenAIStub[];
  let gw: RunningGateway;

  beforeAll(async () => {
    stubs = await Promise.all(['general', 'code', 'math', 'medicine'].map((n) => startTestOpenAIStub(n)));
    const config = parseGatewayConfig({
      listen: { host: '127.0.0.1', port: 0 },
      default_expert: 'general',
      experts: [
        openaiExpert('general', [stubs[0].url], []),
        openaiExpert('code', [stubs[1].url], ['code']),
        openaiExpert('math', [stubs[2].url], ['math']),
        openaiExpert('medicine', [stubs[3].url], ['medicine']),
      ],
    });
    gw = await startGateway(config, { logger: silentLogger });
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all(stubs.map((s) => s.close()));
  });

  it('sends code, math and medical prompts to their experts', async () => {
    const cases = [
      ['Write a Python function that returns the n-th Fibonacci number using memoization.', 'code'],
      ['Solve for x: 3x + 7 = 22. Then compute the derivative of x^2 + 3x.', 'math'],
      ['What are the symptoms and first-line treatment of community-acquired pneumonia in adults?', 'medicine'],
    ] as const;
    for (const [prompt, expert] of cases) {
      const res = await postJson(`${gw.url}/v1/chat/completions`, chat(prompt));
      expect(res.headers.get('x-expert-router-expert')).toBe(expert);
      expect(((await res.json()) as { choices: { message: { content: string } }[] }).choices[0].message.content).toContain(expert);
    }
  });
});

/**
 * The routing decision over loopback: every misroute case of issue 14 routed as decided (unknown
 * model, an expert's upstream model name, no text, low confidence), the reason and confidence in
 * the headers and on /v1/route, and conversations kept with their expert.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGatewayConfig } from '../../src/config/index.js';
import { startGateway, type RunningGateway } from '../../src/gateway/index.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { completionRequests, startTestOpenAIStub, type TestOpenAIStub } from '../helpers/openai-stub.js';
import { chat, openaiExpert, postJson, startTestGateway } from './setup.js';

async function decision(res: Response): Promise<{ expert: string | null; reason: string | null; confidence: string | null; cluster: string | null }> {
  await res.body?.cancel();
  return {
    expert: res.headers.get('x-expert-router-expert'),
    reason: res.headers.get('x-expert-router-reason'),
    confidence: res.headers.get('x-expert-router-confidence'),
    cluster: res.headers.get('x-expert-router-cluster'),
  };
}

describe('routing decisions', () => {
  let stubs: Record<'general' | 'code' | 'math', TestOpenAIStub>;
  let gw: RunningGateway;

  beforeAll(async () => {
    const [general, code, math] = await Promise.all(['general', 'code', 'math'].map((n) => startTestOpenAIStub(n)));
    stubs = { general, code, math };
    gw = await startTestGateway(
      [
        openaiExpert('general', [general.url], []),
        openaiExpert('code', [code.url], ['code']),
        // The keyword classifier is 2/3 sure of math for "solve the integral in python": below this expert's bar.
        openaiExpert('math', [math.url], ['math'], { confidence_threshold: 0.9 }),
      ],
      { default_expert: 'general', routing: { confidence_threshold: 0.6 } },
    );
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all(Object.values(stubs).map((s) => s.close()));
  });

  const send = (body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Response> =>
    postJson(`${gw.url}/v1/chat/completions`, body, { headers: { 'content-type': 'application/json', ...headers } });

  it('answers an unknown model with 404 model_not_found naming the field, forwarding nothing', async () => {
    const before = Object.values(stubs).map((s) => completionRequests(s).length);
    const res = await send(chat('write python code', { model: 'nope' }));
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: { code: string; type: string; param: string; message: string } };
    expect(body.error).toMatchObject({ code: 'model_not_found', type: 'not_found_error', param: 'model' });
    expect(body.error.message).toContain("'nope'");
    expect(Object.values(stubs).map((s) => completionRequests(s).length)).toEqual(before);
  });

  it("pins a request that names an expert's upstream model (as /v1/models lists it), without classifying", async () => {
    const models = (await (await fetch(`${gw.url}/v1/models`)).json()) as { data: { id: string; upstream_model?: string }[] };
    expect(models.data.find((m) => m.id === 'code')?.upstream_model).toBe('code-model');
    const res = await send(chat('solve this equation and the integral', { model: 'code-model' }));
    expect(await decision(res)).toEqual({ expert: 'code', reason: 'pinned', confidence: null, cluster: 'none' });
    expect(completionRequests(stubs.code).at(-1)?.body?.model).toBe('code-model');
    expect(await decision(await send(chat('write python code', { model: 'math' })))).toMatchObject({ expert: 'math', reason: 'pinned' });
  });

  it('sends a request without usable text (image only, or "?") to the default expert with reason no_text', async () => {
    const image = { model: 'auto', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] }] };
    expect(await decision(await send(image))).toEqual({ expert: 'general', reason: 'no_text', confidence: null, cluster: 'none' });
    expect(await decision(await send(chat('?')))).toMatchObject({ expert: 'general', reason: 'no_text' });
    const withSystem = { model: 'auto', messages: [{ role: 'system', content: 'You write python code.' }, { role: 'user', content: ' ?! ' }] };
    expect(await decision(await send(withSystem))).toMatchObject({ expert: 'general', reason: 'no_text' });
  });

  it('sends a classification below the confidence threshold to the default expert, with reason low_confidence', async () => {
    // "python integral": code and math tie, confidence 0.5 < 0.6 (global threshold).
    expect(await decision(await send(chat('python integral')))).toEqual({ expert: 'general', reason: 'low_confidence', confidence: '0.5000', cluster: '1' });
    // Math at 2/3 is above the global 0.6 but below the math expert's own 0.9.
    expect(await decision(await send(chat('solve the integral in python')))).toMatchObject({ expert: 'general', reason: 'low_confidence', confidence: '0.6667' });
    // Code at 3/4 passes the global threshold (the code expert has no threshold of its own).
    expect(await decision(await send(chat('python function code to solve it')))).toEqual({ expert: 'code', reason: 'classified', confidence: '0.7500', cluster: '1' });
  });

  it('shows the reason, the confidence and the threshold that applied on /v1/route', async () => {
    const low = (await (await postJson(`${gw.url}/v1/route`, { messages: [{ role: 'user', content: 'solve the integral in python' }] })).json()) as Record<string, unknown>;
    expect(low).toMatchObject({ expert: 'general', reason: 'low_confidence', label: 'math', classified_expert: 'math', threshold: 0.9 });
    expect(low.confidence).toBeCloseTo(2 / 3, 6);
    const none = (await (await postJson(`${gw.url}/v1/route`, { messages: [{ role: 'user', content: '...' }] })).json()) as Record<string, unknown>;
    expect(none).toMatchObject({ expert: 'general', reason: 'no_text', confidence: null, cluster: null });
    const unknown = await postJson(`${gw.url}/v1/route`, { model: 'nope', prompt: 'python' });
    expect(unknown.status).toBe(404);
  });

  it('keeps a conversation with the expert its first question went to', async () => {
    const conversation = {
      model: 'auto',
      messages: [
        { role: 'user', content: 'How do I write a python function that reverses a list?' },
        { role: 'assistant', content: 'Use slicing: def rev(xs): return xs[::-1]' },
        { role: 'user', content: 'Thanks! Can you explain it more simply?' },
      ],
    };
    expect(await decision(await send(conversation))).toMatchObject({ expert: 'code', reason: 'classified' });
    // The follow-up alone has nothing to go on.
    expect(await decision(await send(chat('Thanks! Can you explain it more simply?')))).toMatchObject({ expert: 'general', reason: 'low_confidence' });
  });

  it('keeps a client session (x-session-id) with the expert its first request went to', async () => {
    const first = await send(chat('write a python function'), { 'x-session-id': 'conv-42' });
    expect(await decision(first)).toMatchObject({ expert: 'code', reason: 'classified' });
    const followUp = await send(chat('Thanks! Can you explain it more simply?'), { 'x-session-id': 'conv-42' });
    expect(await decision(followUp)).toEqual({ expert: 'code', reason: 'session', confidence: null, cluster: 'none' });
    const other = await send(chat('Thanks! Can you explain it more simply?'), { 'x-session-id': 'conv-43' });
    expect(await decision(other)).toMatchObject({ expert: 'general', reason: 'low_confidence' });
    // A pinned request stays pinned, whatever its session.
    expect(await decision(await send(chat('hello', { model: 'math' }), { 'x-session-id': 'conv-42' }))).toMatchObject({ expert: 'math', reason: 'pinned' });
  });

  it('gives the official openai client a NotFoundError for an unknown model and routes auto', async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const err = await client.chat.completions.create({ model: 'gpt-nope', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect((err as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');
    const { data, response } = await client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'write python code' }] }).withResponse();
    expect(data.choices[0].message.content).toContain('code');
    expect(response.headers.get('x-expert-router-reason')).toBe('classified');
  });
});

describe('routing decisions: unknown names classified, shared upstream models', () => {
  let stubs: TestOpenAIStub[];
  let gw: RunningGateway;

  beforeAll(async () => {
    stubs = await Promise.all(['general', 'code', 'math'].map((n) => startTestOpenAIStub(n)));
    gw = await startTestGateway(
      [
        openaiExpert('general', [stubs[0].url], [], { model: 'llama3' }),
        openaiExpert('code', [stubs[1].url], ['code'], { model: 'llama3' }),
        openaiExpert('math', [stubs[2].url], ['math']),
      ],
      { default_expert: 'general', routing: { unknown_model: 'classify', aliases: ['auto', 'router'] } },
    );
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all(stubs.map((s) => s.close()));
  });

  it('classifies an unknown model name when routing.unknown_model is classify, and every alias', async () => {
    expect(await decision(await postJson(`${gw.url}/v1/chat/completions`, chat('solve the equation', { model: 'gpt-4o' })))).toMatchObject({ expert: 'math', reason: 'classified' });
    expect(await decision(await postJson(`${gw.url}/v1/chat/completions`, chat('solve the equation', { model: 'router' })))).toMatchObject({ expert: 'math', reason: 'classified' });
    const ids = ((await (await fetch(`${gw.url}/v1/models`)).json()) as { data: { id: string }[] }).data.map((m) => m.id);
    expect(ids).toEqual(['auto', 'router', 'general', 'code', 'math']);
  });

  it('keeps a request naming a model several experts serve among those experts', async () => {
    const post = (text: string): Promise<Response> => postJson(`${gw.url}/v1/chat/completions`, chat(text, { model: 'llama3' }));
    expect(await decision(await post('write python code'))).toMatchObject({ expert: 'code', reason: 'classified' });
    expect(await decision(await post('hello, the weather?'))).toMatchObject({ expert: 'general', reason: 'classified' });
    // Math does not serve llama3: the request stays with the first expert that does.
    expect(await decision(await post('solve the integral equation'))).toMatchObject({ expert: 'general', reason: 'pinned' });
  });
});

describe('routing decisions: /v1/route?explain=1', () => {
  let stubs: TestOpenAIStub[];
  let gw: RunningGateway;
  let keyword: RunningGateway;

  beforeAll(async () => {
    stubs = await Promise.all(['general', 'code'].map((n) => startTestOpenAIStub(n)));
    const experts = [openaiExpert('general', [stubs[0].url], []), openaiExpert('code', [stubs[1].url], ['code'])];
    gw = await startGateway(parseGatewayConfig({ listen: { host: '127.0.0.1', port: 0 }, experts, default_expert: 'general' }), { logger: silentLogger });
    keyword = await startTestGateway(experts, { default_expert: 'general' });
  });
  afterAll(async () => {
    await Promise.all([gw.close(), keyword.close()]);
    await Promise.all(stubs.map((s) => s.close()));
  });

  it("adds the built-in classifier's explanation: its label, confidence and the n-grams behind each label", async () => {
    const body = { messages: [{ role: 'user', content: 'Write a Python function that parses a CSV file and returns a dict' }] };
    const plain = (await (await postJson(`${gw.url}/v1/route`, body)).json()) as Record<string, unknown>;
    expect(plain).not.toHaveProperty('explain');
    const res = (await (await postJson(`${gw.url}/v1/route?explain=1`, body)).json()) as { label: string; confidence: number; explain: { label: string; confidence: number; tier: string; features: Record<string, { term: string; weight: number }[]> } };
    expect(res.explain).toMatchObject({ label: res.label, tier: 'lexical' });
    expect(res.explain.confidence).toBeCloseTo(res.confidence, 9);
    expect(res.explain.features.code.length).toBeGreaterThan(0);
    expect(res.explain.features.code.map((f) => f.term).join(' ')).toMatch(/python|function|csv/);
    const none = (await (await postJson(`${gw.url}/v1/route?explain=1`, { messages: [{ role: 'user', content: '?' }] })).json()) as Record<string, unknown>;
    expect(none).toMatchObject({ reason: 'no_text', explain: null });
  });

  it('answers explain: null for a classifier that cannot explain itself', async () => {
    const res = (await (await postJson(`${keyword.url}/v1/route?explain=true`, { prompt: 'python code' })).json()) as Record<string, unknown>;
    expect(res).toMatchObject({ expert: 'code', explain: null });
  });
});

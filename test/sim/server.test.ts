import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SseParser } from '../../src/protocol/index.js';
import { startSimServer, type SimServer } from '../../src/sim/index.js';

const PROFILE = 'h100-80gb:llama-3.2-1b:bf16:tp1';
const MODEL = 'sim-1b';

let server: SimServer;
let client: OpenAI;

beforeAll(async () => {
  server = await startSimServer({ profile: PROFILE, port: 0, seed: 7, modelName: MODEL });
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await server.close();
});

async function post(path: string, body: unknown): Promise<Response> {
  return fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/** Reads a Triton-style SSE stream to its end: the events' data objects. */
async function tritonStream(path: string, body: unknown): Promise<Record<string, unknown>[]> {
  const res = await post(path, body);
  expect(res.status).toBe(200);
  const parser = new SseParser();
  const events: Record<string, unknown>[] = [];
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    for (const e of parser.push(chunk)) events.push(JSON.parse(e.data) as Record<string, unknown>);
  }
  expect(parser.pending).toBe('');
  return events;
}

describe('OpenAI protocol (official client)', () => {
  it('lists the served model', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual([MODEL]);
  });

  it('streams a chat completion with exact usage in the final chunk', async () => {
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Say something.' }],
      max_tokens: 12,
      stream: true,
      stream_options: { include_usage: true },
      // ignore_eos is a vLLM extension the simulator honours.
      ...({ ignore_eos: true } as object),
    });
    let text = '';
    let contentChunks = 0;
    let usage: OpenAI.CompletionUsage | undefined | null;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta?.content;
      if (delta) {
        text += delta;
        contentChunks++;
      }
      if (chunk.choices[0]?.finish_reason) finish = chunk.choices[0].finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(contentChunks).toBe(12);
    expect(text.length).toBeGreaterThan(12);
    expect(finish).toBe('length');
    expect(usage?.completion_tokens).toBe(12);
    // <|begin_of_text|> + header tokens + text + <|eot_id|> + assistant header: a real tokenizer count.
    expect(usage?.prompt_tokens).toBeGreaterThan(8);
    expect(usage?.total_tokens).toBe((usage?.prompt_tokens ?? 0) + 12);
  });

  it('answers non-streamed chat and completions with usage', async () => {
    const chat = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 });
    expect(chat.choices[0].message.content?.length).toBeGreaterThan(0);
    expect(chat.usage?.completion_tokens).toBeLessThanOrEqual(4);
    const completion = await client.completions.create({ model: MODEL, prompt: 'Once upon a time', max_tokens: 5, ...({ ignore_eos: true } as object) });
    expect(completion.usage).toMatchObject({ completion_tokens: 5, prompt_tokens: 5 });
    expect(completion.choices[0].finish_reason).toBe('length');
  });

  it('refuses a request beyond the context length with 400 as vLLM does', async () => {
    const err = await client.completions.create({ model: MODEL, prompt: 'hello', max_tokens: 200_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    const e = err as InstanceType<typeof OpenAI.BadRequestError>;
    expect(e.status).toBe(400);
    expect(e.code).toBe('context_length_exceeded');
    expect(e.message).toMatch(/maximum context length is \d+ tokens/);
    // A prompt alone over the limit, with no max_tokens (counted by the 4-characters estimate at this size).
    const long = await post('/v1/completions', { model: MODEL, prompt: 'ab '.repeat(200_000) });
    expect(long.status).toBe(400);
    expect(await long.json()).toMatchObject({ error: { code: 'context_length_exceeded', param: 'prompt', message: expect.stringMatching(/in the messages, Please reduce/) } });
  });

  it('rejects malformed input with OpenAI-style errors naming the field', async () => {
    const bad = await post('/v1/chat/completions', { model: MODEL, messages: [], max_tokens: 5 });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'invalid_request', param: 'messages' } });
    const notJson = await fetch(`${server.url}/v1/completions`, { method: 'POST', body: '{oops' });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ error: { code: 'invalid_json' } });
    const wrongModel = await post('/v1/completions', { model: 'other', prompt: 'x' });
    expect(wrongModel.status).toBe(404);
    expect(await wrongModel.json()).toMatchObject({ error: { code: 'model_not_found', param: 'model' } });
    const negative = await post('/v1/completions', { model: MODEL, prompt: 'x', max_tokens: -1 });
    expect(await negative.json()).toMatchObject({ error: { param: 'max_tokens' } });
    const missing = await fetch(`${server.url}/v1/nothing`);
    expect(missing.status).toBe(404);
  });
});

describe('Triton protocol', () => {
  it('generates with text_output and token counts', async () => {
    const res = await post(`/v2/models/${MODEL}/generate`, { text_input: 'What is 2+2?', max_tokens: 6, ignore_eos: true });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ model_name: MODEL, output_token_count: 6 });
    expect(typeof body.text_output).toBe('string');
  });

  it('streams one event per token with a cumulative output_token_count', async () => {
    const events = await tritonStream('/v2/models/ensemble/generate_stream', { text_input: 'hi', max_tokens: 5, ignore_eos: true });
    expect(events).toHaveLength(5);
    expect(events.map((e) => e.output_token_count)).toEqual([1, 2, 3, 4, 5]);
    for (const e of events) expect(typeof e.text_output).toBe('string');
  });

  it('answers errors the Triton way', async () => {
    const unknown = await post('/v2/models/nope/generate', { text_input: 'x' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: expect.stringContaining('nope') });
    const bad = await post(`/v2/models/${MODEL}/generate`, { max_tokens: 3 });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: expect.stringContaining('text_input') });
  });
});

describe('metrics', () => {
  it('exposes vLLM metric names and the simulated GPU utilisation', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    for (const name of [
      'vllm:num_requests_running',
      'vllm:num_requests_waiting',
      'vllm:gpu_cache_usage_perc',
      'vllm:prompt_tokens_total',
      'vllm:generation_tokens_total',
      'vllm:time_to_first_token_seconds_bucket',
      'vllm:time_per_output_token_seconds_bucket',
      'sim:gpu_utilization',
    ]) {
      expect(text).toContain(name);
    }
    const generated = /vllm:generation_tokens_total\{model_name="sim-1b"\} (\d+)/.exec(text);
    expect(Number(generated?.[1])).toBeGreaterThan(20);
  });
});

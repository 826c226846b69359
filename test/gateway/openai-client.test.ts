import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../src/gateway/index.js';
import { completionRequests, startTestOpenAIStub, type TestOpenAIStub } from '../helpers/openai-stub.js';
import { openaiExpert, startTestGateway } from './setup.js';

describe('the official openai client against the gateway', () => {
  let code: TestOpenAIStub;
  let general: TestOpenAIStub;
  let gw: RunningGateway;
  let client: OpenAI;

  beforeAll(async () => {
    [general, code] = await Promise.all([startTestOpenAIStub('general', { tokens: 4 }), startTestOpenAIStub('code', { tokens: 4 })]);
    gw = await startTestGateway([openaiExpert('general', [general.url], ['general', 'math']), openaiExpert('code', [code.url], ['code'])]);
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all([general.close(), code.close()]);
  });

  it('gets a whole chat completion with usage', async () => {
    const answer = await client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'write a python function' }] });
    expect(answer.choices[0].message.content).toBe('code code code code ');
    expect(answer.usage).toEqual({ prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 });
  });

  it('streams a chat completion; the usage chunk the gateway forced is removed when not asked for', async () => {
    const stream = await client.chat.completions.create({ model: 'auto', stream: true, messages: [{ role: 'user', content: 'python code please' }] });
    let text = '';
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      expect(chunk.choices).toHaveLength(1);
      text += chunk.choices[0].delta.content ?? '';
    }
    expect(text).toBe('code code code code ');
    expect(chunks).toBe(5);
    const sent = completionRequests(code).at(-1)!.body!;
    expect(sent.stream_options).toEqual({ include_usage: true });
    expect(sent.model).toBe('code-model');
  });

  it('streams with the usage chunk when the client asks for it', async () => {
    const stream = await client.chat.completions.create({ model: 'auto', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hello' }] });
    let usage: OpenAI.CompletionUsage | undefined | null;
    let text = '';
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      text += chunk.choices[0]?.delta.content ?? '';
    }
    expect(text).toBe('general general general general ');
    expect(usage?.completion_tokens).toBe(4);
  });

  it('streams legacy completions', async () => {
    const stream = await client.completions.create({ model: 'code', prompt: 'anything', stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    expect(text).toBe('code code code code ');
  });

  it('surfaces gateway errors as APIError with status and code', async () => {
    const err = await client.chat.completions.create({ model: 'auto', messages: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('invalid_request');
    expect((err as Error).message).toContain('messages');
  });
});

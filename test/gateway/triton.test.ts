import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../src/gateway/index.js';
import { SseParser, type TritonGenerateRequest } from '../../src/protocol/index.js';
import { postJson, startTestGateway } from './setup.js';

/** A small server speaking Triton's generate / generate_stream, as TensorRT-LLM's ensemble does. */
interface TritonTestServer {
  url: string;
  requests: { path: string; body: TritonGenerateRequest }[];
  /** Stream events to send before an error event (undefined: no error). */
  failAfter: number | undefined;
  close(): Promise<void>;
}

async function startTritonServer(): Promise<TritonTestServer> {
  const state: TritonTestServer = { url: '', requests: [], failAfter: undefined, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      if (req.method === 'GET' && req.url === '/v2/health/ready') {
        res.writeHead(200).end();
        return;
      }
      const match = /^\/v2\/models\/([^/]+)\/(generate|generate_stream)$/.exec(req.url ?? '');
      if (!match || req.method !== 'POST') {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
        return;
      }
      const body = JSON.parse(raw) as TritonGenerateRequest;
      state.requests.push({ path: req.url!, body });
      if (body.text_input.includes('FAIL400')) {
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"input too long"}');
        return;
      }
      const model = decodeURIComponent(match[1]);
      const words = ['alpha', ' beta', ' gamma'].slice(0, body.max_tokens ?? 3);
      if (match[2] === 'generate') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ model_name: model, model_version: '1', text_output: words.join(''), output_token_count: words.length, prompt_token_count: 7 }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      words.forEach((w, i) => {
        if (state.failAfter !== undefined && i === state.failAfter) res.write('data: {"error":"engine crashed"}\n\n');
        else res.write(`data: ${JSON.stringify({ model_name: model, model_version: '1', text_output: w })}\n\n`);
      });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return state;
}

describe('the triton backend', () => {
  let triton: TritonTestServer;
  let gw: RunningGateway;
  let client: OpenAI;

  beforeAll(async () => {
    triton = await startTritonServer();
    gw = await startTestGateway([{ name: 'trt', protocol: 'triton', model: 'ensemble', endpoints: [triton.url], match: [], default_max_tokens: 64 }]);
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
    await triton.close();
  });

  it('renders chat with the Llama 3 template and maps the sampling parameters to ensemble inputs', async () => {
    const answer = await client.chat.completions.create({
      model: 'auto',
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }],
      max_tokens: 3,
      temperature: 0.5,
      top_p: 0.9,
      seed: 7,
      stop: 'END',
    });
    const sent = triton.requests.at(-1)!;
    expect(sent.path).toBe('/v2/models/ensemble/generate');
    expect(sent.body).toEqual({
      text_input: '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
      max_tokens: 3,
      stream: false,
      temperature: 0.5,
      top_p: 0.9,
      random_seed: 7,
      stop_words: ['END'],
    });
    expect(answer.object).toBe('chat.completion');
    expect(answer.choices[0].message).toMatchObject({ role: 'assistant', content: 'alpha beta gamma' });
    expect(answer.choices[0].finish_reason).toBe('length');
    expect(answer.usage).toEqual({ prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 });
  });

  it('streams chat as OpenAI chunks, with usage when asked and a clean [DONE]', async () => {
    const stream = await client.chat.completions.create({ model: 'trt', messages: [{ role: 'user', content: 'Hi' }], stream: true, stream_options: { include_usage: true } });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(triton.requests.at(-1)!.path).toBe('/v2/models/ensemble/generate_stream');
    expect(triton.requests.at(-1)!.body.max_tokens).toBe(64);
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: 'alpha' });
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('alpha beta gamma');
    expect(chunks.at(-2)!.choices[0].finish_reason).toBe('stop');
    expect(chunks.at(-1)!.usage?.completion_tokens).toBe(3);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
  });

  it('streams legacy completions with the prompt passed as text_input', async () => {
    const stream = await client.completions.create({ model: 'trt', prompt: 'Once upon', stream: true, max_tokens: 2 });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    expect(text).toBe('alpha beta');
    expect(triton.requests.at(-1)!.body).toMatchObject({ text_input: 'Once upon', max_tokens: 2, stream: true });
  });

  it("turns Triton's error answers into OpenAI errors: JSON before the first token, an SSE error event after it", async () => {
    const bad = await postJson(`${gw.url}/v1/chat/completions`, { model: 'trt', messages: [{ role: 'user', content: 'FAIL400' }] });
    expect(bad.status).toBe(400);
    // The gateway writes the message; the expert's own words ("input too long") stay in the log.
    expect(((await bad.json()) as { error: { message: string } }).error.message).toBe('the expert refused the request as invalid (upstream status 400)');

    triton.failAfter = 0;
    const early = await postJson(`${gw.url}/v1/chat/completions`, { model: 'trt', stream: true, messages: [{ role: 'user', content: 'Hi' }] });
    expect(early.status).toBe(502);
    expect(((await early.json()) as { error: { code: string } }).error.code).toBe('upstream_stream_error');

    triton.failAfter = 1;
    try {
      const res = await postJson(`${gw.url}/v1/chat/completions`, { model: 'trt', stream: true, messages: [{ role: 'user', content: 'Hi' }] });
      const events = new SseParser().push(await res.text());
      expect(events.at(-1)!.event).toBe('error');
      // The expert's words stay in the gateway's log; the client reads the gateway's message.
      expect(JSON.parse(events.at(-1)!.data).error.message).toBe('the expert reported an error');
      expect(events.some((e) => e.data === '[DONE]')).toBe(false);
    } finally {
      triton.failAfter = undefined;
    }
  });
});

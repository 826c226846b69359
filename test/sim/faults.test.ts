import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimServer, type SimServer } from '../../src/sim/index.js';

const PROFILE = 'h100-80gb:llama-3.2-1b:bf16:tp1';
const MODEL = 'sim-faults';
let server: SimServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(faults = {}): Promise<{ s: SimServer; client: OpenAI }> {
  server = await startSimServer({ profile: PROFILE, port: 0, seed: 11, modelName: MODEL, faults });
  return { s: server, client: new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 }) };
}

/** Streams a chat completion, recording when each content chunk arrived. */
async function timedStream(client: OpenAI, maxTokens: number): Promise<{ times: number[]; start: number }> {
  const start = performance.now();
  const times: number[] = [];
  const stream = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'go' }], max_tokens: maxTokens, stream: true, ...({ ignore_eos: true } as object) });
  for await (const chunk of stream) if (chunk.choices[0]?.delta?.content) times.push(performance.now());
  return { times, start };
}

describe('fault injection', () => {
  it('error rate: 500 injected_fault before any token', async () => {
    const { client } = await start({ errorRate: 1 });
    const err = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }], max_tokens: 3 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    expect((err as InstanceType<typeof OpenAI.APIError>).code).toBe('injected_fault');
  });

  it('stall: no token for the stall time after the first one', async () => {
    const { client } = await start({ stallMs: 300 });
    const { times } = await timedStream(client, 6);
    expect(times).toHaveLength(6);
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(280);
  });

  it('mid-stream disconnect: the stream is cut before it completes', async () => {
    const { client } = await start({ disconnectRate: 1 });
    const outcome = await timedStream(client, 40).then((r) => r.times.length, (e: unknown) => e);
    // Either the client saw an error, or it got fewer chunks than asked for; never a complete stream.
    if (typeof outcome === 'number') expect(outcome).toBeLessThan(40);
    else expect(outcome).toBeInstanceOf(Error);
  });

  it('slow start: the first token comes after the delay', async () => {
    const { client } = await start({ slowStartMs: 250 });
    const { times, start: t0 } = await timedStream(client, 2);
    expect(times[0] - t0).toBeGreaterThanOrEqual(240);
  });

  it('refusing connections: ECONNREFUSED for the set time, then served again', async () => {
    const { s } = await start();
    const url = `${s.url}/v1/models`;
    s.setFaults({ refuseConnectionsMs: 300 });
    const refused = await fetch(url).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Error);
    expect(String((refused as Error & { cause?: { code?: string } }).cause?.code)).toBe('ECONNREFUSED');
    await new Promise((r) => setTimeout(r, 450));
    expect((await fetch(url)).status).toBe(200);
  });

  it('admin endpoint changes faults at run time and validates them', async () => {
    const { s, client } = await start();
    const set = await fetch(`${s.url}/admin/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ errorRate: 1 }) });
    expect(set.status).toBe(200);
    expect(await set.json()).toMatchObject({ errorRate: 1, stallMs: 0 });
    await expect(client.completions.create({ model: MODEL, prompt: 'x', max_tokens: 2 })).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    const bad = await fetch(`${s.url}/admin/faults`, { method: 'POST', body: JSON.stringify({ errorRate: 2 }) });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'invalid_request', param: 'errorRate' } });
    const unknown = await fetch(`${s.url}/admin/faults`, { method: 'POST', body: JSON.stringify({ explode: true }) });
    expect(unknown.status).toBe(400);
    await fetch(`${s.url}/admin/faults`, { method: 'POST', body: JSON.stringify({ errorRate: 0 }) });
    const ok = await client.completions.create({ model: MODEL, prompt: 'x', max_tokens: 2 });
    expect(ok.choices[0].text.length).toBeGreaterThan(0);
  });
});

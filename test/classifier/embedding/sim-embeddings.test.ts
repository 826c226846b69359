/** The simulator's /v1/embeddings over real HTTP, and the remote provider and a head trained against it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteEmbeddingProvider, buildHead } from '../../../src/classifier/embedding/index.js';
import { startSimServer, type SimServer } from '../../../src/sim/index.js';
import { EMBEDDING_DIMENSION, simulatedEmbedding } from '../../../src/sim/http/embeddings.js';
import { TINY_CORPUS } from '../fixtures.js';

let sim: SimServer;

beforeAll(async () => {
  sim = await startSimServer({ profile: 'h100-80gb:llama-3.2-1b:bf16:tp1', modelName: 'sim-embed' });
});

afterAll(async () => {
  await sim.close();
});

const post = async (body: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
  const res = await fetch(`${sim.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
};

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

describe('simulator /v1/embeddings', () => {
  it('answers in the OpenAI shape with deterministic unit vectors', async () => {
    const { status, json } = await post({ model: 'sim-embed', input: ['segfault in my C code', 'segfault in my C code'] });
    expect(status).toBe(200);
    const data = json.data as { object: string; index: number; embedding: number[] }[];
    expect(json.object).toBe('list');
    expect(data.map((d) => [d.object, d.index])).toEqual([['embedding', 0], ['embedding', 1]]);
    expect(data[0].embedding).toHaveLength(EMBEDDING_DIMENSION);
    expect(data[0].embedding).toEqual(data[1].embedding);
    expect(dot(data[0].embedding, data[0].embedding)).toBeCloseTo(1, 5);
    expect((json.usage as { prompt_tokens: number }).prompt_tokens).toBeGreaterThan(0);
  });

  it('gives texts that share words closer vectors, CJK included', () => {
    const a = simulatedEmbedding('fix the null pointer exception in my java service');
    const b = simulatedEmbedding('java null pointer exception when the service starts');
    const c = simulatedEmbedding('a poem about autumn leaves and rain');
    expect(dot(a, b)).toBeGreaterThan(dot(a, c) + 0.2);
    const zh1 = simulatedEmbedding('请帮我写一首关于秋天的诗');
    const zh2 = simulatedEmbedding('写一首秋天的诗');
    const zh3 = simulatedEmbedding('如何计算矩阵的行列式');
    expect(dot(zh1, zh2)).toBeGreaterThan(dot(zh1, zh3) + 0.2);
  });

  it('serves base64 float32 when asked', async () => {
    const { json } = await post({ model: 'sim-embed', input: 'hello there', encoding_format: 'base64' });
    const [item] = json.data as { embedding: string }[];
    const bytes = Buffer.from(item.embedding, 'base64');
    const vector = Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
    expect(vector).toEqual(Array.from(simulatedEmbedding('hello there')));
  });

  it.each([
    [{ model: 'sim-embed', input: [] }, 400, 'input'],
    [{ model: 'sim-embed', input: [1, 2] }, 400, 'input'],
    [{ model: 'sim-embed', input: 'x', encoding_format: 'int8' }, 400, 'encoding_format'],
    [{ model: 'other', input: 'x' }, 404, 'model'],
  ])('refuses %j with %i naming the field', async (body, status, param) => {
    const res = await post(body);
    expect(res.status).toBe(status);
    expect((res.json.error as { param: string }).param).toBe(param);
  });

  it("applies the server's injected faults: the provider reports embedding_upstream_status", async () => {
    sim.setFaults({ errorRate: 1 });
    const provider = new RemoteEmbeddingProvider({ endpoint: sim.url, model: 'sim-embed' });
    try {
      await expect(provider.embed(['x'])).rejects.toMatchObject({ code: 'embedding_upstream_status' });
    } finally {
      sim.setFaults({ errorRate: 0 });
      await provider.close();
    }
  });

  it('a head trained against it through the remote provider labels unseen prompts', async () => {
    const provider = new RemoteEmbeddingProvider({ endpoint: sim.url, model: 'sim-embed' });
    try {
      const head = await buildHead(provider, TINY_CORPUS, { model: 'sim-embed', batchSize: 16, epochs: 200 });
      expect(head.provider).toBe('remote:sim-embed');
      expect(head.dimension).toBe(EMBEDDING_DIMENSION);
      const [v] = await provider.embed(['my rust borrow checker compile error']);
      const p = head.probabilities(v);
      expect(head.labels[p.indexOf(Math.max(...p))]).toBe('code');
    } finally {
      await provider.close();
    }
  });
});

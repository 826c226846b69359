/**
 * The in-process provider with the real model (Universal Sentence Encoder lite): few tests, one worker
 * started once for the file, since loading and embedding cost seconds of CPU on a small machine.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddingError, UseLiteProvider } from '../../../src/classifier/embedding/index.js';

let provider: UseLiteProvider;

beforeAll(async () => {
  provider = new UseLiteProvider({ workers: 1, maxQueue: 16 });
  await provider.ready;
}, 120_000);

afterAll(async () => {
  await provider.close();
});

const cosine = (a: Float32Array, b: Float32Array): number => {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
};

describe('UseLiteProvider', () => {
  it('embeds in 512 dimensions, similar prompts closer than unrelated ones', async () => {
    const [a, b, c] = await provider.embed([
      'How do I reverse a linked list in Java?',
      'Write Java code that reverses a singly linked list',
      'What are the symptoms of iron deficiency anemia?',
    ]);
    expect(a).toHaveLength(512);
    expect(cosine(a, b)).toBeGreaterThan(cosine(a, c) + 0.2);
  }, 60_000);

  it("keeps the caller's event loop responsive while it embeds", async () => {
    const long = (i: number): string => `Explain step ${i} of deploying a service with terraform, helm and a GitHub Actions pipeline. `.repeat(20).slice(0, 2000);
    const batches = Array.from({ length: 4 }, (_, b) => Array.from({ length: 6 }, (_, i) => long(b * 6 + i)));
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    const durations: number[] = [];
    await Promise.all(batches.map(async (batch) => {
      const t0 = performance.now();
      await provider.embed(batch);
      durations.push(performance.now() - t0);
    }));
    delay.disable();
    const shortest = Math.min(...durations);
    // On the caller's thread one batch would hold the loop for its whole duration; in the worker the loop
    // only ever waits for a message or a timer, a small fraction of it.
    expect(delay.max / 1e6).toBeLessThan(shortest / 4);
  }, 120_000);

  it('rejects at once with embedding_overloaded when its queue is full, and aborts a queued batch', async () => {
    const small = new UseLiteProvider({ workers: 1, maxQueue: 1 });
    try {
      await small.ready;
      const running = small.embed(['first']);
      const gone = new AbortController();
      const queued = small.embed(['second'], gone.signal);
      await expect(small.embed(['third'])).rejects.toMatchObject({ code: 'embedding_overloaded' });
      gone.abort(new Error('client left'));
      await expect(queued).rejects.toThrow('client left');
      expect(small.queued).toBe(0);
      expect((await running)[0]).toHaveLength(512);
    } finally {
      await small.close();
    }
    await expect(small.embed(['late'])).rejects.toBeInstanceOf(EmbeddingError);
  }, 120_000);
});

import { describe, expect, it } from 'vitest';
import { EmbeddingCascade, EmbeddingError, LabelJoin, type CascadeOptions } from '../../../src/classifier/embedding/index.js';
import { LruCache } from '../../../src/classifier/embedding/lru-cache.js';
import { LABELS, ScriptedProvider, axisHead, constant, never, prediction } from './fixtures.js';

const MATH = [0, 1, 0];

function cascade(provider: ScriptedProvider, overrides: Partial<CascadeOptions> = {}): EmbeddingCascade {
  return new EmbeddingCascade({
    provider,
    head: axisHead(),
    clusterLabels: LABELS,
    threshold: 0.6,
    timeoutMs: 50,
    maxPending: 4,
    cacheSize: 8,
    weight: 0.6,
    ...overrides,
  });
}

describe('EmbeddingCascade thresholds', () => {
  it('keeps a lexical prediction at or above the threshold without embedding', async () => {
    const provider = new ScriptedProvider(constant(MATH));
    const c = cascade(provider);
    const lexical = prediction(0, 0.6);
    expect(c.escalates(lexical, 'a confident prompt')).toBe(false);
    const d = await c.decide('a confident prompt', lexical);
    expect(d).toMatchObject({ tier: 'lexical', reason: 'confident', embeddingMs: 0 });
    expect(d.prediction).toBe(lexical);
    expect(provider.calls).toHaveLength(0);
  });

  it('escalates below the threshold and lets a sure head overrule an unsure lexical choice', async () => {
    const provider = new ScriptedProvider(constant(MATH));
    const d = await cascade(provider).decide('prove that the sum is finite', prediction(0, 0.4));
    expect(d.tier).toBe('embedding');
    expect(d.reason).toBe('embedded');
    expect(d.prediction.label).toBe('math');
    expect(d.prediction.cluster).toBe(1);
    expect(d.lexical.label).toBe('code');
    expect(provider.calls).toEqual([['prove that the sum is finite']]);
  });

  it('keeps the lexical label when the head is unsure', async () => {
    // A zero vector: the head gives every label 1/3, so the lexical choice decides.
    const d = await cascade(new ScriptedProvider(constant([0, 0, 0]))).decide('hmm', prediction(2, 0.5));
    expect(d.reason).toBe('embedded');
    expect(d.prediction.label).toBe('general');
  });

  it('threshold 0 never escalates, threshold 1 always does', async () => {
    const provider = new ScriptedProvider(constant(MATH));
    expect(cascade(provider, { threshold: 0 }).escalates(prediction(0, 0.01), 'x')).toBe(false);
    expect(cascade(provider, { threshold: 1 }).escalates(prediction(0, 0.99), 'x')).toBe(true);
  });

  it('a head for Latin script leaves prompts mostly in other scripts to the lexical tier', async () => {
    const provider = new ScriptedProvider(constant(MATH));
    const c = cascade(provider, { head: axisHead('fake', 'latin') });
    expect(c.escalates(prediction(0, 0.3), '证明这个级数收敛')).toBe(false);
    expect(c.escalates(prediction(0, 0.3), 'Докажите, что ряд сходится (series)')).toBe(false);
    expect(c.escalates(prediction(0, 0.3), 'Demuestra que la serie converge: 1/n^2')).toBe(true);
    expect(c.escalates(prediction(0, 0.3), 'sum of 1/n² for n ≥ 1 — 收敛?')).toBe(true);
    expect(c.triage(prediction(0, 0.3), '证明这个级数收敛')).toBe('unread');
    expect(c.triage(prediction(0, 0.7), '证明这个级数收敛')).toBe('confident');
    expect(await c.decide('证明这个级数收敛', prediction(0, 0.3))).toMatchObject({ tier: 'lexical', reason: 'unread' });
    expect(provider.calls).toHaveLength(0);
  });

  it('cuts the prompt to the head\'s maxChars before embedding', async () => {
    const provider = new ScriptedProvider(constant(MATH));
    await cascade(provider).decide('x'.repeat(500), prediction(0, 0.1));
    expect(provider.calls[0][0]).toHaveLength(100);
  });
});

describe('EmbeddingCascade fallbacks', () => {
  it('on timeout the lexical decision stands and says why', async () => {
    const c = cascade(new ScriptedProvider(never), { timeoutMs: 20 });
    const lexical = prediction(0, 0.3);
    const d = await c.decide('slow', lexical);
    expect(d).toMatchObject({ tier: 'lexical', reason: 'timeout', errorCode: 'embedding_timeout' });
    expect(d.prediction).toBe(lexical);
    expect(d.embeddingMs).toBeGreaterThan(0);
    expect(c.pending).toBe(0);
  });

  it('on a provider error the lexical decision stands with the error code', async () => {
    const c = cascade(new ScriptedProvider(async () => {
      throw new EmbeddingError('embedding_upstream_status', 'embeddings endpoint answered HTTP 500');
    }));
    expect(await c.decide('x', prediction(1, 0.2))).toMatchObject({ tier: 'lexical', reason: 'error', errorCode: 'embedding_upstream_status' });
  });

  it('a vector of the wrong length is an error, not a decision', async () => {
    const c = cascade(new ScriptedProvider(constant([1, 0])));
    expect(await c.decide('x', prediction(1, 0.2))).toMatchObject({ reason: 'error', errorCode: 'embedding_dimension_mismatch' });
  });

  it('beyond maxPending escalations the lexical decision stands as overloaded', async () => {
    const c = cascade(new ScriptedProvider(never), { maxPending: 2, timeoutMs: 30 });
    const all = await Promise.all(['a', 'b', 'c', 'd'].map((t) => c.decide(t, prediction(0, 0.1))));
    expect(all.map((d) => d.reason)).toEqual(['timeout', 'timeout', 'overloaded', 'overloaded']);
    expect(all[2].errorCode).toBe('embedding_overloaded');
  });

  it("a provider's own overload (full queue) reads as overloaded", async () => {
    const c = cascade(new ScriptedProvider(async () => {
      throw new EmbeddingError('embedding_overloaded', 'the embedding queue is full');
    }));
    expect((await c.decide('x', prediction(0, 0.1))).reason).toBe('overloaded');
  });

  it("the caller's abort ends the wait at once as aborted", async () => {
    const c = cascade(new ScriptedProvider(never), { timeoutMs: 10_000 });
    const gone = new AbortController();
    const pending = c.decide('x', prediction(0, 0.1), gone.signal);
    gone.abort(new Error('client left'));
    expect(await pending).toMatchObject({ tier: 'lexical', reason: 'aborted' });
  });
});

describe('EmbeddingCascade cache', () => {
  it('answers a repeated prompt from the cache without embedding again', async () => {
    const provider = new ScriptedProvider(constant(MATH));
    const c = cascade(provider);
    const first = await c.decide('same prompt', prediction(0, 0.3));
    const second = await c.decide('same prompt', prediction(0, 0.3));
    expect(second).toMatchObject({ tier: 'embedding', reason: 'cached', embeddingMs: 0 });
    expect(second.prediction).toEqual(first.prediction);
    expect(provider.calls).toHaveLength(1);
    await c.decide('another prompt', prediction(0, 0.3));
    expect(provider.calls).toHaveLength(2);
  });

  it('does not cache failures', async () => {
    let fail = true;
    const provider = new ScriptedProvider(async (texts) => {
      if (fail) throw new EmbeddingError('embedding_unreachable', 'down');
      return texts.map(() => Float32Array.from(MATH));
    });
    const c = cascade(provider);
    expect((await c.decide('p', prediction(0, 0.3))).reason).toBe('error');
    fail = false;
    expect((await c.decide('p', prediction(0, 0.3))).reason).toBe('embedded');
    expect((await c.decide('p', prediction(0, 0.3))).reason).toBe('cached');
  });

  it('is bounded: the least recently used prompt goes first', async () => {
    const provider = new ScriptedProvider(constant(MATH));
    const c = cascade(provider, { cacheSize: 2 });
    for (const t of ['a', 'b', 'a', 'c']) await c.decide(t, prediction(0, 0.3));
    // 'a' was used after 'b', so 'b' was evicted when 'c' came.
    expect((await c.decide('a', prediction(0, 0.3))).reason).toBe('cached');
    expect((await c.decide('b', prediction(0, 0.3))).reason).toBe('embedded');
  });

  it('LruCache keeps at most its capacity', () => {
    const lru = new LruCache<number, number>(3);
    for (let i = 0; i < 10; i++) lru.set(i, i);
    expect(lru.size).toBe(3);
    expect(lru.get(6)).toBeUndefined();
    expect(lru.get(9)).toBe(9);
  });
});

describe('EmbeddingCascade configuration', () => {
  it('refuses a head trained on another provider, or for labels the classifier lacks', () => {
    const provider = new ScriptedProvider(constant(MATH));
    expect(() => cascade(provider, { head: axisHead('remote:e5') })).toThrow(/trained on 'remote:e5' vectors/);
    expect(() => cascade(provider, { clusterLabels: ['code', 'general', 'law'] })).toThrow(/labels math are not labels of the classifier/);
  });

  it('names the bad option', () => {
    const provider = new ScriptedProvider(constant(MATH));
    expect(() => cascade(provider, { threshold: 1.5 })).toThrow(/threshold must be between 0 and 1/);
    expect(() => cascade(provider, { maxPending: 0 })).toThrow(/max_pending/);
    expect(() => cascade(provider, { weight: -1 })).toThrow(/weight/);
  });
});

describe('LabelJoin.combine (the documented pooling rule)', () => {
  const join = new LabelJoin(['code', 'math', 'general', 'code'], ['code', 'general', 'math']);

  it('pools w * head + (1 - w) * lexical with the rest of the lexical mass spread evenly', () => {
    // Lexical: code 0.4, math 0.3, general 0.3. Head: math 0.7, code 0.2, general 0.1 (head order code, general, math).
    const p = join.combine({ ...prediction(0, 0.4), scores: [0.3, 0.1, 0.1, 0.2] }, [0.2, 0.1, 0.7], 0.5);
    // math: 0.5 * 0.7 + 0.5 * 0.3 = 0.5; code: 0.5 * 0.2 + 0.5 * 0.4 = 0.3.
    expect(p.label).toBe('math');
    expect(p.cluster).toBe(1);
    expect(p.confidence).toBeCloseTo(0.5, 10);
    expect(p.margin).toBeCloseTo(0.2, 10);
  });

  it('weight 0 is the lexical decision, weight 1 the head alone', () => {
    const lexical = prediction(0, 0.4);
    expect(join.combine(lexical, [0.1, 0.1, 0.8], 0).label).toBe('code');
    expect(join.combine(lexical, [0.1, 0.1, 0.8], 1).label).toBe('math');
  });

  it('a label with several clusters goes to its best-scoring cluster', () => {
    const lexical = { ...prediction(1, 0.2), scores: [0.1, 0.3, 0.1, 0.25] };
    const p = join.combine(lexical, [0.9, 0.05, 0.05], 1);
    expect(p.label).toBe('code');
    expect(p.cluster).toBe(3);
  });

  it('ties go to the lexical label', () => {
    // general: 0.5 * 0.25 + 0.5 * 0.5 = 0.375; code: 0.5 * 0.5 + 0.5 * 0.25 = 0.375 (exact in binary).
    const lexical = { ...prediction(2, 0.5), scores: [0.1, 0.1, 0.3, 0.1] };
    expect(join.combine(lexical, [0.5, 0.25, 0.25], 0.5).label).toBe('general');
  });
});

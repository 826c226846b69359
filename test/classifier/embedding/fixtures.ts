/** Shared pieces of the embedding tier's tests: a scriptable provider, a two-dimensional head, predictions. */
import { EmbeddingHead } from '../../../src/classifier/embedding/index.js';
import type { EmbeddingProvider, HeadScripts } from '../../../src/classifier/embedding/index.js';
import type { Prediction } from '../../../src/classifier/index.js';

export const LABELS = ['code', 'math', 'general'];

/** A lexical prediction for cluster `cluster` of LABELS with the given confidence. */
export function prediction(cluster: number, confidence: number): Prediction {
  const scores = LABELS.map((_, i) => (i === cluster ? 0.3 : 0.1));
  return { cluster, label: LABELS[cluster], score: 0.3, margin: 0.2, confidence, scores };
}

/**
 * A head over 3-dimensional vectors whose probabilities follow the vector's axis: (1,0,0) is code,
 * (0,1,0) math, (0,0,1) general, each with probability about 0.93.
 */
export function axisHead(provider = 'fake', scripts: HeadScripts = 'any'): EmbeddingHead {
  const weights = new Float32Array([3, 0, 0, 0, 3, 0, 0, 0, 3].map((w) => w * 1.2));
  return new EmbeddingHead({
    provider,
    model: 'axis',
    dimension: 3,
    labels: ['code', 'general', 'math'].sort(),
    maxChars: 100,
    scripts,
    // Rows in the sorted label order (code, general, math): code on x, general on z, math on y.
    weights: new Float32Array([...weights.subarray(0, 3), ...weights.subarray(6, 9), ...weights.subarray(3, 6)]),
    bias: new Float32Array(3),
    metadata: { examples: 0, perLabel: {}, trainAccuracy: 1, epochs: 0, l2: 0, source: null, corpusDigest: null },
  });
}

/** A provider whose answers the test scripts: a function of the texts (may return a never-settling promise). */
export class ScriptedProvider implements EmbeddingProvider {
  readonly name = 'fake';
  readonly dimension = 3;
  calls: string[][] = [];
  closed = false;

  constructor(public answer: (texts: readonly string[], signal?: AbortSignal) => Promise<Float32Array[]>) {}

  embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]> {
    this.calls.push([...texts]);
    return this.answer(texts, signal);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** An answer that never comes, except as a rejection when the signal aborts (as real providers do). */
export function never(_texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]> {
  return new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
}

/** Every text maps to the same vector. */
export function constant(vector: number[]): (texts: readonly string[]) => Promise<Float32Array[]> {
  return async (texts) => texts.map(() => Float32Array.from(vector));
}

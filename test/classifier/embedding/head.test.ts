import { describe, expect, it } from 'vitest';
import { EmbeddingError, parseHead, serializeHead, trainHead } from '../../../src/classifier/embedding/index.js';
import { createRng } from '../../../src/common/rng.js';
import { axisHead } from './fixtures.js';

/** Three labels as noisy clusters around three directions in 8 dimensions. */
function clusters(seed: number, perLabel: number): { vectors: Float32Array[]; labels: string[] } {
  const rng = createRng(seed);
  const vectors: Float32Array[] = [];
  const labels: string[] = [];
  ['law', 'code', 'math'].forEach((label, axis) => {
    for (let i = 0; i < perLabel; i++) {
      const v = Float32Array.from({ length: 8 }, () => rng.normal() * 0.35);
      v[axis] += 1;
      vectors.push(v);
      labels.push(label);
    }
  });
  return { vectors, labels };
}

const OPTS = { provider: 'fake', model: 'synthetic', maxChars: 100, epochs: 150 };

describe('trainHead', () => {
  it('learns separable labels, with sorted labels and calibrated-looking probabilities', () => {
    const { vectors, labels } = clusters(1, 60);
    const head = trainHead(vectors, labels, OPTS);
    expect(head.labels).toEqual(['code', 'law', 'math']);
    expect(head.metadata.trainAccuracy).toBeGreaterThan(0.9);
    expect(head.metadata.perLabel).toEqual({ code: 60, law: 60, math: 60 });
    const held = clusters(2, 30);
    let correct = 0;
    held.vectors.forEach((v, i) => {
      const p = head.probabilities(v);
      const best = p.indexOf(Math.max(...p));
      if (head.labels[best] === held.labels[i]) correct++;
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    });
    expect(correct / held.vectors.length).toBeGreaterThan(0.85);
  });

  it('is deterministic: the same vectors give a byte-identical artifact', () => {
    const { vectors, labels } = clusters(3, 20);
    expect(serializeHead(trainHead(vectors, labels, OPTS))).toBe(serializeHead(trainHead(vectors, labels, OPTS)));
  });

  it('scales vectors to unit length, so a vector and its multiple agree', () => {
    const head = axisHead();
    expect(Array.from(head.probabilities([0, 5, 0]))).toEqual(Array.from(head.probabilities([0, 0.5, 0])));
  });

  it('refuses mixed dimensions and a single label', () => {
    expect(() => trainHead([new Float32Array(2), new Float32Array(3)], ['a', 'b'], OPTS)).toThrow(/vector 1 has 3 dimensions/);
    expect(() => trainHead([new Float32Array(2), new Float32Array(2)], ['a', 'a'], OPTS)).toThrow(/at least two labels/);
  });
});

describe('head artifact', () => {
  it('round-trips exactly', () => {
    const head = axisHead();
    const again = parseHead(serializeHead(head), 'mem');
    expect(again.labels).toEqual(head.labels);
    expect(Array.from(again.weights)).toEqual(Array.from(head.weights));
    expect(Array.from(again.probabilities([1, 2, 3]))).toEqual(Array.from(head.probabilities([1, 2, 3])));
  });

  it.each([
    ['not JSON', '{', /not JSON/],
    ['another format', '{"format":"x"}', /not an embedding head/],
    ['a newer version', JSON.stringify({ ...JSON.parse(serializeHead(axisHead())), version: 99 }), /head version 99/],
    ['short weights', JSON.stringify({ ...JSON.parse(serializeHead(axisHead())), weights: Buffer.alloc(8).toString('base64') }), /weights hold 2 values, expected 3 x 3/],
    ['an unknown script set', JSON.stringify({ ...JSON.parse(serializeHead(axisHead())), scripts: 'cyrillic' }), /scripts must be one of any, latin/],
    ['no labels', JSON.stringify({ ...JSON.parse(serializeHead(axisHead())), labels: 'code' }), /'labels' must be a list/],
  ])('refuses %s with head_corrupt naming the source', (_, text, message) => {
    let err: unknown;
    try {
      parseHead(text, 'models/h.json');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EmbeddingError);
    expect((err as EmbeddingError).code).toBe('head_corrupt');
    expect((err as Error).message).toMatch(/^models\/h\.json: /);
    expect((err as Error).message).toMatch(message);
  });
});

import { describe, expect, it } from 'vitest';
import { nearestCentroids, sphericalKMeans } from '../../src/classifier/kmeans.js';
import { createRandom } from '../../src/classifier/hash.js';
import type { SparseVector } from '../../src/classifier/tfidf.js';

function unit(entries: Array<[number, number]>): SparseVector {
  const norm = Math.hypot(...entries.map(([, v]) => v));
  return { idx: Int32Array.from(entries.map(([i]) => i)), val: Float32Array.from(entries.map(([, v]) => v / norm)) };
}

/** `groups` clusters of `size` vectors; each draws 5 of its own 20 features plus 2 of 20 shared noise features. */
function planted(groups: number, size: number, seed: number): { vectors: SparseVector[]; truth: number[]; rows: number } {
  const random = createRandom(seed);
  const vectors: SparseVector[] = [];
  const truth: number[] = [];
  const noiseBase = groups * 20;
  for (let i = 0; i < groups * size; i++) {
    const g = i % groups;
    const picked = new Map<number, number>();
    for (let j = 0; j < 5; j++) picked.set(g * 20 + Math.floor(random() * 20), 0.5 + random());
    for (let j = 0; j < 2; j++) picked.set(noiseBase + Math.floor(random() * 20), 0.3 * random());
    vectors.push(unit([...picked]));
    truth.push(g);
  }
  return { vectors, truth, rows: noiseBase + 20 };
}

describe('sphericalKMeans', () => {
  it('is reproducible with a seed, byte for byte', () => {
    const { vectors, rows } = planted(4, 30, 1);
    const a = sphericalKMeans(vectors, rows, { k: 4, seed: 7, restarts: 3, maxIterations: 50 });
    const b = sphericalKMeans(vectors, rows, { k: 4, seed: 7, restarts: 3, maxIterations: 50 });
    expect(Buffer.from(a.centroids.buffer).equals(Buffer.from(b.centroids.buffer))).toBe(true);
    expect(Array.from(a.assignment)).toEqual(Array.from(b.assignment));
    expect(a.objective).toBe(b.objective);
  });

  it('recovers planted clusters', () => {
    const { vectors, truth, rows } = planted(5, 40, 2);
    const result = sphericalKMeans(vectors, rows, { k: 5, seed: 3, restarts: 4, maxIterations: 50 });
    // Same partition up to renaming: every planted group maps onto exactly one cluster, and vice versa.
    const pairs = new Set(truth.map((g, i) => `${g}->${result.assignment[i]}`));
    expect(pairs.size).toBe(5);
    expect(new Set(result.assignment).size).toBe(5);
    expect(Array.from(result.sizes)).toEqual([40, 40, 40, 40, 40]);
    expect(result.objective).toBeGreaterThan(0.4);
    // Centroids are unit vectors.
    for (let c = 0; c < 5; c++) {
      let s = 0;
      for (let row = 0; row < rows; row++) s += result.centroids[row * 5 + c] ** 2;
      expect(s).toBeCloseTo(1, 5);
    }
    expect(Array.from(nearestCentroids(vectors, result.centroids, 5))).toEqual(Array.from(result.assignment));
  });

  it('keeps the best of several restarts', () => {
    const { vectors, rows } = planted(6, 10, 4);
    const one = (seed: number) => sphericalKMeans(vectors, rows, { k: 6, seed, restarts: 1, maxIterations: 50 }).objective;
    const best = sphericalKMeans(vectors, rows, { k: 6, seed: 11, restarts: 5, maxIterations: 50 }).objective;
    expect(best).toBeGreaterThanOrEqual(one(11));
  });

  it('repairs empty clusters', () => {
    // Four copies of one vector and one other: k-means++ must seed two identical centroids, and the
    // duplicate's cluster goes empty until repair hands it the worst-served vector.
    const a = unit([[0, 1], [1, 1]]);
    const b = unit([[2, 1]]);
    const vectors = [a, a, a, a, b];
    for (const seed of [1, 2, 3, 4, 5]) {
      const result = sphericalKMeans(vectors, 3, { k: 3, seed, restarts: 1, maxIterations: 20 });
      expect(result.repairs).toBeGreaterThan(0);
      expect(Array.from(result.sizes).every((s) => s >= 1)).toBe(true);
      expect(Array.from(result.sizes).reduce((x, y) => x + y, 0)).toBe(5);
    }
  });

  it('refuses k larger than the corpus', () => {
    const { vectors, rows } = planted(2, 2, 5);
    expect(() => sphericalKMeans(vectors, rows, { k: 5, seed: 1, restarts: 1, maxIterations: 10 })).toThrow(/larger than the corpus/);
  });
});

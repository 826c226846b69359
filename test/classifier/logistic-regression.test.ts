import { describe, expect, it } from 'vitest';
import { createRandom } from '../../src/classifier/hash.js';
import { balancedWeights, fitLogisticRegression, logitsOf } from '../../src/classifier/logistic-regression.js';
import type { SparseVector } from '../../src/classifier/tfidf.js';

/** Noisy sparse data: 3 labels over 12 features, each label preferring its own four; label 0 six times as frequent. */
function data(seed: number) {
  const random = createRandom(seed);
  const vectors: SparseVector[] = [];
  const labels: number[] = [];
  for (let d = 0; d < 800; d++) {
    const y = d % 8 < 6 ? 0 : (d % 8) - 5;
    const idx: number[] = [];
    const val: number[] = [];
    for (let f = 0; f < 12; f++) {
      const own = Math.floor(f / 4) === y;
      if (random() < (own ? 0.5 : 0.25)) {
        idx.push(f);
        val.push(1);
      }
    }
    const norm = Math.sqrt(val.length) || 1;
    vectors.push({ idx: Int32Array.from(idx), val: Float32Array.from(val, (v) => v / norm) });
    labels.push(y);
  }
  return { vectors, labels: Int32Array.from(labels) };
}

function softmax(z: Float64Array): number[] {
  const max = Math.max(...z);
  const e = Array.from(z, (v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

describe('fitLogisticRegression', () => {
  const { vectors, labels } = data(3);

  it('class-balanced: at the optimum every label gets the same weighted share of probability', () => {
    const weights = balancedWeights(labels, 3);
    const fit = fitLogisticRegression(vectors, labels, weights, 12, 3, { l2: 1e-3, maxIterations: 500, tolerance: 1e-12 });
    // The unpenalised bias's gradient is zero: sum_i w_i p_ic = sum_i w_i y_ic = (total weight) / 3.
    const share = [0, 0, 0];
    let total = 0;
    const z = new Float64Array(3);
    vectors.forEach((v, d) => {
      softmax(logitsOf(v, fit.weights, fit.bias, 3, z)).forEach((p, c) => (share[c] += weights[d] * p));
      total += weights[d];
    });
    for (const s of share) expect(s / total).toBeCloseTo(1 / 3, 3);
    // Unweighted, the frequent label takes most of the probability instead.
    const plain = fitLogisticRegression(vectors, labels, new Float64Array(labels.length).fill(1), 12, 3, { l2: 1e-3, maxIterations: 500, tolerance: 1e-12 });
    let p0 = 0;
    for (const v of vectors) p0 += softmax(logitsOf(v, plain.weights, plain.bias, 3, z))[0];
    expect(p0 / vectors.length).toBeCloseTo(0.75, 2);
  });

  it('learns each label its own features, and is deterministic', () => {
    const fit = () => fitLogisticRegression(vectors, labels, balancedWeights(labels, 3), 12, 3, { l2: 1e-3, maxIterations: 200 });
    const a = fit();
    for (let f = 0; f < 12; f++) {
      const own = Math.floor(f / 4);
      for (let c = 0; c < 3; c++) if (c !== own) expect(a.weights[f * 3 + own]).toBeGreaterThan(a.weights[f * 3 + c]);
    }
    const b = fit();
    expect(b.weights).toEqual(a.weights);
    expect(b.bias).toEqual(a.bias);
  });

  it('a larger penalty gives smaller weights; a warm start from the optimum stops after the minimum iterations', () => {
    const w = balancedWeights(labels, 3);
    const loose = fitLogisticRegression(vectors, labels, w, 12, 3, { l2: 1e-4, maxIterations: 500, tolerance: 1e-12 });
    const tight = fitLogisticRegression(vectors, labels, w, 12, 3, { l2: 1e-1, maxIterations: 300 });
    const norm = (x: Float64Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0));
    expect(norm(tight.weights)).toBeLessThan(norm(loose.weights) / 3);
    const again = fitLogisticRegression(vectors, labels, w, 12, 3, { l2: 1e-4, maxIterations: 300, init: loose });
    expect(again.iterations).toBeLessThanOrEqual(5);
    expect(again.objective).toBeLessThanOrEqual(loose.objective + 1e-12);
  });

  it('rejects a non-positive penalty and no data', () => {
    expect(() => fitLogisticRegression(vectors, labels, balancedWeights(labels, 3), 12, 3, { l2: 0, maxIterations: 10 })).toThrow(/l2/);
    expect(() => fitLogisticRegression([], new Int32Array(0), new Float64Array(0), 12, 3, { l2: 1, maxIterations: 10 })).toThrow(/no training/);
  });
});

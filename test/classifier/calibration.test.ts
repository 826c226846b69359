import { describe, expect, it } from 'vitest';
import { calibrationReport, fitTemperature, labelConfidence, meanNll } from '../../src/classifier/calibration.js';
import { createRandom } from '../../src/classifier/hash.js';
import { trainClassifier } from '../../src/classifier/index.js';
import { TINY_CORPUS } from './fixtures.js';

/**
 * A synthetic case with a known answer: two classes whose true probability of class 0 is
 * sigmoid(score gap / T) for T = 0.25, labels drawn from it. Temperature scaling must recover T.
 */
function synthetic(n: number, temperature: number) {
  const random = createRandom(7);
  const scores = new Float64Array(n * 2);
  const truth = new Int32Array(n);
  for (let d = 0; d < n; d++) {
    const gap = (random() - 0.5) * 2;
    scores[d * 2] = gap;
    const p0 = 1 / (1 + Math.exp(-gap / temperature));
    truth[d] = random() < p0 ? 0 : 1;
  }
  return { scores, k: 2, truth, clusterLabel: Int32Array.from([0, 1]) };
}

describe('temperature scaling', () => {
  it('recovers the temperature that generated the labels, and that temperature minimises the NLL', () => {
    const data = synthetic(20000, 0.25);
    const t = fitTemperature(data);
    expect(t).toBeGreaterThan(0.22);
    expect(t).toBeLessThan(0.28);
    expect(meanNll(data, 1 / t)).toBeLessThan(meanNll(data, 1 / (t * 2)));
    expect(meanNll(data, 1 / t)).toBeLessThan(meanNll(data, 2 / t));
  });

  it('calibrated probabilities have a small ECE; over-confident ones a large one', () => {
    const data = synthetic(20000, 0.25);
    const t = fitTemperature(data);
    const same = [Uint8Array.from([1, 0]), Uint8Array.from([0, 1])];
    const outcome = (temperature: number) => {
      const conf: number[] = [];
      const correct: boolean[] = [];
      for (let d = 0; d < data.truth.length; d++) {
        const s = data.scores.subarray(d * 2, d * 2 + 2);
        const best = s[0] >= s[1] ? 0 : 1;
        conf.push(labelConfidence(s, 2, best, temperature, same[best]));
        correct.push(best === data.truth[d]);
      }
      return calibrationReport(conf, correct);
    };
    expect(outcome(t).ece).toBeLessThan(0.02);
    expect(outcome(t / 10).ece).toBeGreaterThan(0.1);
    const r = outcome(t);
    expect(r.bins).toHaveLength(10);
    expect(r.bins.reduce((s, b) => s + b.count, 0)).toBe(20000);
    // A two-class decision is never below 0.5 confident: the lower bins stay empty.
    expect(r.bins.slice(0, 5).every((b) => b.count === 0)).toBe(true);
  });

  it('sums the probability of clusters sharing the chosen label', () => {
    const p = labelConfidence([0.5, 0.5, 0.5], 3, 0, 1, [1, 1, 0]);
    expect(p).toBeCloseTo(2 / 3, 12);
  });

  it('needs labels to fit', () => {
    expect(() => fitTemperature({ scores: new Float64Array(2), k: 2, truth: Int32Array.from([-1]), clusterLabel: Int32Array.from([0, 1]) })).toThrow(/labelled/);
  });
});

describe('centroid model confidence', () => {
  it('is a probability of the chosen label, higher for a clear prompt than for an ambiguous one', () => {
    const model = trainClassifier(TINY_CORPUS, { seed: 1 });
    expect(model.metadata.temperature).toBeGreaterThan(0);
    const clear = model.predict('my python function throws a compile error in the sql query join');
    const vague = model.predict('help me please');
    expect(clear.confidence).toBeGreaterThan(0.5);
    expect(clear.confidence).toBeLessThanOrEqual(1);
    expect(vague.confidence).toBeGreaterThanOrEqual(1 / 3 - 1e-9);
    expect(vague.confidence).toBeLessThan(clear.confidence);
  });
});

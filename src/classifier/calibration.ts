/**
 * Calibration: turning a model's per-cluster scores into a probability per label by a softmax with a
 * temperature, fitting that temperature on held-out labelled scores (temperature scaling, Guo et al. 2017),
 * and measuring how well the probabilities match observed accuracy (expected calibration error).
 */
import { ClassifierError } from './errors.js';

/** Scores of n examples over k clusters, row-major (n * k), with each example's true label. */
export interface ScoredExamples {
  scores: Float64Array;
  k: number;
  /** Per example: index of its true label in the model's label list (-1: unlabelled, skipped). */
  truth: Int32Array;
  /** Per cluster: index of its label (several clusters may share one label). */
  clusterLabel: Int32Array;
}

/**
 * Search range of the inverse temperature: from nearly flat to sharp enough for cosines that differ by
 * hundredths. Bounded above so that held-out data the model separates perfectly cannot drive it to infinity.
 */
const MIN_LOG_BETA = Math.log(1e-2);
const MAX_LOG_BETA = Math.log(1e3);
const GOLDEN_STEPS = 80;

/** Mean negative log-likelihood of the true labels under softmax(beta * scores), clusters summed per label. */
export function meanNll(data: ScoredExamples, beta: number): number {
  const { scores, k, truth, clusterLabel } = data;
  let total = 0;
  let n = 0;
  for (let d = 0; d < truth.length; d++) {
    if (truth[d] < 0) continue;
    let max = -Infinity;
    for (let c = 0; c < k; c++) max = Math.max(max, scores[d * k + c]);
    let all = 0;
    let own = 0;
    for (let c = 0; c < k; c++) {
      const e = Math.exp(beta * (scores[d * k + c] - max));
      all += e;
      if (clusterLabel[c] === truth[d]) own += e;
    }
    // A true label with no cluster at all, or underflowing to zero: a large but finite penalty.
    total += own > 0 ? Math.log(all / own) : 50;
    n++;
  }
  return n > 0 ? total / n : 0;
}

/**
 * The temperature minimising the mean NLL of the true labels. The NLL is convex in the inverse temperature,
 * so a golden-section search over its logarithm finds the optimum; deterministic. Throws without labels.
 */
export function fitTemperature(data: ScoredExamples): number {
  if (!data.truth.some((t) => t >= 0)) throw new ClassifierError('invalid_option', 'fitting a temperature needs labelled examples');
  const phi = (Math.sqrt(5) - 1) / 2;
  let lo = MIN_LOG_BETA;
  let hi = MAX_LOG_BETA;
  let a = hi - phi * (hi - lo);
  let b = lo + phi * (hi - lo);
  let fa = meanNll(data, Math.exp(a));
  let fb = meanNll(data, Math.exp(b));
  for (let i = 0; i < GOLDEN_STEPS; i++) {
    if (fa <= fb) {
      hi = b;
      b = a;
      fb = fa;
      a = hi - phi * (hi - lo);
      fa = meanNll(data, Math.exp(a));
    } else {
      lo = a;
      a = b;
      fa = fb;
      b = lo + phi * (hi - lo);
      fb = meanNll(data, Math.exp(b));
    }
  }
  return 1 / Math.exp((lo + hi) / 2);
}

/**
 * Probability of the label of cluster `best` under softmax(scores / temperature), summed over every cluster
 * carrying that label. `sameLabel[c]` is 1 when cluster c carries it. Allocation-free (the hot path).
 */
export function labelConfidence(scores: ArrayLike<number>, k: number, best: number, temperature: number, sameLabel: ArrayLike<number>): number {
  const beta = 1 / temperature;
  const top = scores[best];
  let all = 0;
  let own = 0;
  for (let c = 0; c < k; c++) {
    const e = Math.exp(beta * (scores[c] - top));
    all += e;
    own += e * sameLabel[c];
  }
  return own / all;
}

/** One bin of a reliability table: predictions whose confidence fell in [lo, hi). */
export interface ReliabilityBin {
  lo: number;
  hi: number;
  count: number;
  /** Mean confidence of the bin's predictions. */
  confidence: number;
  /** Share of them that were right. */
  accuracy: number;
}

export interface CalibrationReport {
  /** Expected calibration error: sum over bins of (count / n) * |accuracy - confidence|. */
  ece: number;
  /** Mean confidence over all predictions, and the accuracy it should match. */
  meanConfidence: number;
  accuracy: number;
  bins: ReliabilityBin[];
}

export const RELIABILITY_BINS = 10;

/** ECE and the reliability table over equal-width confidence bins (the last bin includes 1). */
export function calibrationReport(confidences: readonly number[], correct: readonly boolean[], binCount = RELIABILITY_BINS): CalibrationReport {
  if (confidences.length !== correct.length) throw new ClassifierError('invalid_option', 'confidences and outcomes differ in length');
  const bins: ReliabilityBin[] = Array.from({ length: binCount }, (_, i) => ({ lo: i / binCount, hi: (i + 1) / binCount, count: 0, confidence: 0, accuracy: 0 }));
  let sumConf = 0;
  let right = 0;
  confidences.forEach((p, i) => {
    const bin = bins[Math.min(binCount - 1, Math.max(0, Math.floor(p * binCount)))];
    bin.count++;
    bin.confidence += p;
    if (correct[i]) bin.accuracy++;
    sumConf += p;
    if (correct[i]) right++;
  });
  const n = confidences.length;
  let ece = 0;
  for (const bin of bins) {
    if (bin.count === 0) continue;
    bin.confidence /= bin.count;
    bin.accuracy /= bin.count;
    ece += (bin.count / n) * Math.abs(bin.accuracy - bin.confidence);
  }
  return { ece, meanConfidence: n > 0 ? sumConf / n : 0, accuracy: n > 0 ? right / n : 0, bins };
}

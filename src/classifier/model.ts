/**
 * A trained classifier over hashed TF-IDF features: a linear model (a weight per feature and label plus a
 * bias, softmax probabilities) or centroids (cosine to each unit centroid). Both score by one pass over the
 * prompt's features against quantised weights; `predict` is the microsecond hot path.
 */
import { labelConfidence } from './calibration.js';
import { COUNT_BITS, COUNT_MAX, Featurizer, type FeatureSettings, type FeatureTerm } from './featurize.js';
import type { Prediction, PromptClassifier } from './types.js';

export interface ClusterInfo {
  id: number;
  label: string;
  /** Training examples assigned to the cluster (by the model's own prediction). */
  size: number;
  /** Share of the cluster's examples carrying its label; null when trained without labels. */
  purity: number | null;
  /** The features that most favour the cluster (centroid weight, or linear weight), most important first. */
  topTerms: string[];
}

/** `linear`: multinomial logistic regression; `centroid`: nearest centroid (per label, or k-means clusters). */
export type ModelKind = 'linear' | 'centroid';

export interface ModelMetadata {
  kind: ModelKind;
  mode: 'supervised' | 'unsupervised';
  k: number;
  features: FeatureSettings;
  /** Examples the model was trained on. */
  corpusSize: number;
  /** Distinct hashed features seen in training (rows of the centroid matrix). */
  featureCount: number;
  seed: number;
  restarts: number;
  /** Centroids: mean cosine similarity of training examples to their centroid. Linear: the final training objective. */
  objective: number;
  /**
   * Softmax temperature behind `confidence`. Linear: temperature scaling fitted on a held-out share of the
   * training prompts (calibration.heldOut). Centroids: a proxy over the cosines fitted on the labelled training
   * prompts; without labels, UNLABELLED_TEMPERATURE.
   */
  temperature: number;
  /** Linear: the L2 penalty and the calibration split; null for centroids. */
  linear: { l2: number; iterations: number; heldOut: number; heldOutNll: number } | null;
  /** SHA-256 of the training corpus files (corpusDigest), when trained from a corpus folder. */
  corpusDigest: string | null;
  clusters: ClusterInfo[];
  /** Share of all examples whose cluster carries their label; null without labels. */
  purity: number | null;
  /** Distinct labels of the training data, sorted. */
  labels: string[];
  /** Where the training data came from (a file name), when known. */
  source: string | null;
}

/**
 * Weights as stored: per row, k weights quantised to bytes against the row's own step, w = (byte - zero) *
 * step. Centroid weights are never negative (zero 0, bytes 0..255); linear weights are signed (zero 128,
 * bytes 1..255, i.e. -127..127 steps).
 */
export interface QuantizedWeights {
  /** Row-major, features.length * k. */
  values: Uint8Array;
  /** Per row: the step, i.e. the row's largest |weight| / levels. */
  steps: Float32Array;
}

/** Everything needed to predict, as stored in the artifact. */
export interface ModelParts {
  metadata: ModelMetadata;
  clusterLabels: string[];
  /** Hashed feature index of each weight row (distinct; most frequent features first). */
  features: Int32Array;
  idf: Float32Array;
  idfUnseen: number;
  /** Weights, feature-major (features.length * k): float as training makes them, or quantised as stored. */
  weights: Float32Array | QuantizedWeights;
  /** Linear: one bias per cluster (zeros for centroids). */
  bias: Float32Array;
}

const QUANT_LEVELS = 255;
/** Byte of a zero weight, by model kind. */
export const ZERO_POINT: Readonly<Record<ModelKind, number>> = { centroid: 0, linear: 128 };
/** Steps on either side of zero a linear weight may take. */
const SIGNED_LEVELS = 127;

/**
 * Temperature of a model clustered without labels, where nothing can be calibrated against: cosines to
 * centroids differ by a few hundredths, so 0.02 makes a 0.05 lead about 92% against one rival.
 */
export const UNLABELLED_TEMPERATURE = 0.02;

/**
 * Quantises unit centroids row by row. TF-IDF weights are never negative, so neither are the centroids (their
 * means): one byte per weight, in 255 steps of the row's largest weight, holds a k = 16 model's weights in
 * 1 MiB instead of 4 MiB (the scoring loop reads one random row per feature of the prompt). Measured: no
 * k = 16 cluster changed on 3,000 of the speed benchmark's prompts; 5-fold accuracy on data/corpus went
 * from 93.15% to 93.21%.
 */
export function quantizeCentroids(centroids: Float32Array, rows: number, k: number): QuantizedWeights {
  const values = new Uint8Array(rows * k);
  const steps = new Float32Array(rows);
  for (let row = 0; row < rows; row++) {
    let max = 0;
    for (let c = 0; c < k; c++) max = Math.max(max, centroids[row * k + c]);
    if (max <= 0) continue;
    const step = Math.fround(max / QUANT_LEVELS);
    steps[row] = step;
    for (let c = 0; c < k; c++) values[row * k + c] = Math.min(QUANT_LEVELS, Math.max(0, Math.round(centroids[row * k + c] / step)));
  }
  return { values, steps };
}

/**
 * Quantises linear weights row by row, symmetric around byte 128: 127 steps of the row's largest |weight| on
 * each side. A prompt's logits sum a few hundred such weights, so the rounding errors mostly cancel.
 */
export function quantizeLinear(weights: Float32Array, rows: number, k: number): QuantizedWeights {
  const values = new Uint8Array(rows * k).fill(ZERO_POINT.linear);
  const steps = new Float32Array(rows);
  for (let row = 0; row < rows; row++) {
    let max = 0;
    for (let c = 0; c < k; c++) max = Math.max(max, Math.abs(weights[row * k + c]));
    if (max <= 0) continue;
    const step = Math.fround(max / SIGNED_LEVELS);
    steps[row] = step;
    for (let c = 0; c < k; c++) {
      const q = Math.min(SIGNED_LEVELS, Math.max(-SIGNED_LEVELS, Math.round(weights[row * k + c] / step)));
      values[row * k + c] = ZERO_POINT.linear + q;
    }
  }
  return { values, steps };
}

/** A known feature's share in one prediction: its weighted value and what it adds to each cluster's score. */
export interface FeatureContribution {
  /** Hashed feature index. */
  index: number;
  /** Its TF-IDF value in the prompt's unit vector. */
  value: number;
  /**
   * Per cluster: what the feature adds to the score. Linear: to the logit, relative to the mean over the
   * clusters (a softmax ignores what every logit gains alike). Centroids: to the cosine.
   */
  perCluster: number[];
}

export class ClassifierModel implements PromptClassifier {
  readonly k: number;
  readonly clusterLabels: readonly string[];
  readonly metadata: ModelMetadata;
  private readonly features: Int32Array;
  private readonly idf: Float32Array;
  private readonly idfUnseen: number;
  private readonly featurizer: Featurizer;
  private readonly kind: ModelKind;
  /** Byte of a zero weight (ZERO_POINT of the kind). */
  private readonly zero: number;
  private readonly bias: Float32Array;
  /** 1 / temperature: the softmax sharpness behind the confidence. */
  private readonly beta: number;
  /** Quantisation step per weight row (the weights themselves live only in `records`). */
  private readonly steps: Float32Array;
  /**
   * One record of `recordBytes` per table row r (r = weight row + 1; row 0 stands for every feature unseen
   * in training): its IDF and its IDF times its quantisation step as two float32, then its k weight bytes
   * padded with zeros to `stride` (k rounded up to a multiple of 4, so that scoring runs in blocks of 8 or 4
   * clusters only). Everything scoring needs of a feature sits in one record: 24 bytes at k = 16.
   */
  private readonly records: Uint8Array;
  /** The same memory as float32, for the two scales at the start of each record. */
  private readonly recordScales: Float32Array;
  private readonly recordBytes: number;
  private readonly stride: number;
  /** Centroids: 1 / norm of each quantised centroid, so that scores stay exact cosines (linear: all 1). */
  private readonly invNorm: Float64Array;
  /** TF weight by count (the featurizer's counts saturate at COUNT_MAX). */
  private readonly tfWeight: Float64Array;
  /** Dot products by cluster (padded to `stride`), and its first k entries: the scores. */
  private readonly acc: Float64Array;
  private readonly scores: Float64Array;
  /** Scratch for scoreInto: value offset and score weight of each distinct known feature of the text. */
  private offsets = new Int32Array(1024);
  private weights = new Float64Array(1024);
  /** Per cluster c: 1 for each cluster carrying c's label (k * k), for the label's summed probability. */
  private readonly sameLabel: Uint8Array[];

  constructor(parts: ModelParts) {
    const k = parts.clusterLabels.length;
    const rows = parts.features.length;
    this.k = k;
    this.clusterLabels = Object.freeze([...parts.clusterLabels]);
    this.metadata = parts.metadata;
    this.features = parts.features;
    this.idf = parts.idf;
    this.idfUnseen = parts.idfUnseen;
    this.kind = parts.metadata.kind;
    this.zero = ZERO_POINT[this.kind];
    this.bias = parts.bias;
    this.beta = 1 / parts.metadata.temperature;
    const quantize = this.kind === 'linear' ? quantizeLinear : quantizeCentroids;
    const q = parts.weights instanceof Float32Array ? quantize(parts.weights, rows, k) : parts.weights;
    this.featurizer = new Featurizer(parts.metadata.features);
    // A feature's slot in the featurizer's table carries its table row above the count bits (0: never seen).
    for (let row = 0; row < rows; row++) this.featurizer.table[parts.features[row]] = (row + 1) << COUNT_BITS;
    const stride = (k + 3) & ~3;
    const recordBytes = 8 + stride;
    this.stride = stride;
    this.recordBytes = recordBytes;
    this.records = new Uint8Array((rows + 1) * recordBytes);
    this.recordScales = new Float32Array(this.records.buffer);
    this.recordScales[0] = parts.idfUnseen;
    this.steps = q.steps;
    const norm2 = new Float64Array(k);
    for (let row = 0; row < rows; row++) {
      const at = (row + 1) * recordBytes;
      this.recordScales[at >> 2] = parts.idf[row];
      this.recordScales[(at >> 2) + 1] = parts.idf[row] * q.steps[row];
      for (let c = 0; c < k; c++) {
        const v = q.values[row * k + c];
        this.records[at + 8 + c] = v;
        norm2[c] += ((v - this.zero) * q.steps[row]) ** 2;
      }
    }
    this.invNorm = this.kind === 'linear' ? new Float64Array(k).fill(1) : norm2.map((x) => (x > 0 ? 1 / Math.sqrt(x) : 0));
    this.tfWeight = Float64Array.from({ length: COUNT_MAX + 1 }, (_, tf) => this.featurizer.tfWeight(tf));
    this.acc = new Float64Array(stride);
    this.scores = this.acc.subarray(0, k);
    this.sameLabel = this.clusterLabels.map((l) => Uint8Array.from(this.clusterLabels, (o) => (o === l ? 1 : 0)));
  }

  /** The model's arrays in artifact layout (the weights copied out of the records: for saving, not predicting). */
  get parts(): ModelParts & { weights: QuantizedWeights } {
    const { metadata, clusterLabels, features, idf, idfUnseen, steps, k, records, recordBytes, bias } = this;
    const values = new Uint8Array(features.length * k);
    for (let row = 0; row < features.length; row++) {
      const at = (row + 1) * recordBytes + 8;
      values.set(records.subarray(at, at + k), row * k);
    }
    return { metadata, clusterLabels: [...clusterLabels], features, idf, idfUnseen, weights: { values, steps }, bias };
  }

  /**
   * Centroids: the nearest by cosine; scores are the cosines, confidence their softmax with the fitted
   * temperature. Linear: the most probable label; scores are the calibrated probabilities, so score and
   * confidence are the chosen label's probability and the margin is in probability. With a single cluster
   * the margin is its score (as if a second scored 0).
   */
  predict(text: string): Prediction {
    const scores = this.scoreInto(text);
    if (this.kind === 'linear') this.softmaxInPlace(scores);
    let best = 0;
    let second = -1;
    for (let c = 1; c < this.k; c++) {
      if (scores[c] > scores[best]) {
        second = best;
        best = c;
      } else if (second < 0 || scores[c] > scores[second]) {
        second = c;
      }
    }
    const score = scores[best];
    // A plain loop: Array.from on a typed array goes through the iterator protocol (~0.5 us at k = 16).
    const list: number[] = [];
    for (let c = 0; c < this.k; c++) list.push(scores[c]);
    return {
      cluster: best,
      label: this.clusterLabels[best],
      score,
      margin: second < 0 ? score : score - scores[second],
      confidence: this.kind === 'linear' ? score : labelConfidence(scores, this.k, best, this.metadata.temperature, this.sameLabel[best]),
      scores: list,
    };
  }

  /** Logits to calibrated probabilities: softmax(logits / temperature), in place. */
  private softmaxInPlace(scores: Float64Array): void {
    const { k, beta } = this;
    let max = -Infinity;
    for (let c = 0; c < k; c++) if (scores[c] > max) max = scores[c];
    let sum = 0;
    for (let c = 0; c < k; c++) {
      scores[c] = Math.exp(beta * (scores[c] - max));
      sum += scores[c];
    }
    for (let c = 0; c < k; c++) scores[c] /= sum;
  }

  /**
   * Raw scores of `text` into a buffer reused by the next call: cosines to the centroids, or logits (bias plus
   * weights times the prompt's unit TF-IDF vector). First one pass over
   * the text's distinct features (norm, row offset, weight; branch-free, as known and unseen features mix at
   * random), then the dot products four clusters at a time with the sums in locals: the rows just fetched
   * are still in cache, and no accumulator goes to memory.
   */
  private scoreInto(text: string): Float64Array {
    const { featurizer, records, recordScales, recordBytes, acc, scores, k, stride, tfWeight, invNorm } = this;
    const n = featurizer.scan(text);
    const touched = featurizer.touched;
    const table = featurizer.table;
    if (this.offsets.length < n + 1) {
      this.offsets = new Int32Array(touched.length);
      this.weights = new Float64Array(touched.length);
    }
    const { offsets, weights } = this;
    let m = 0;
    let norm2 = 0;
    // Sum of the known features' weights: a zero point z shifts every dot product by z times it.
    let weightSum = 0;
    for (let t = 0; t < n; t++) {
      const f = touched[t];
      const slot = table[f];
      table[f] = slot & ~COUNT_MAX;
      const row = slot >>> COUNT_BITS;
      const tf = tfWeight[slot & COUNT_MAX];
      const at = row * recordBytes;
      const x = tf * recordScales[at >> 2];
      norm2 += x * x;
      // Branch-free: known and unseen features mix at random, so each is written and the count advances
      // only for a known one (row > 0).
      offsets[m] = at + 8;
      const w = tf * recordScales[(at >> 2) + 1];
      weights[m] = w;
      // An unseen feature's record has step 0 (row 0), so it adds nothing here either.
      weightSum += w;
      m += -row >>> 31;
    }
    const inv = norm2 > 0 ? 1 / Math.sqrt(norm2) : 0;
    // The dot products, 8 (then 4) clusters at a time with the sums in locals: the records were just fetched,
    // so they are still in cache, and no accumulator goes to memory. Padding weights are zero.
    let c = 0;
    for (; c + 8 <= stride; c += 8) {
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      let a4 = 0;
      let a5 = 0;
      let a6 = 0;
      let a7 = 0;
      for (let j = 0; j < m; j++) {
        const o = offsets[j] + c;
        const w = weights[j];
        a0 += w * records[o];
        a1 += w * records[o + 1];
        a2 += w * records[o + 2];
        a3 += w * records[o + 3];
        a4 += w * records[o + 4];
        a5 += w * records[o + 5];
        a6 += w * records[o + 6];
        a7 += w * records[o + 7];
      }
      acc[c] = a0;
      acc[c + 1] = a1;
      acc[c + 2] = a2;
      acc[c + 3] = a3;
      acc[c + 4] = a4;
      acc[c + 5] = a5;
      acc[c + 6] = a6;
      acc[c + 7] = a7;
    }
    if (c < stride) {
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      for (let j = 0; j < m; j++) {
        const o = offsets[j] + c;
        const w = weights[j];
        a0 += w * records[o];
        a1 += w * records[o + 1];
        a2 += w * records[o + 2];
        a3 += w * records[o + 3];
      }
      acc[c] = a0;
      acc[c + 1] = a1;
      acc[c + 2] = a2;
      acc[c + 3] = a3;
    }
    const shift = this.zero * weightSum;
    const bias = this.bias;
    for (c = 0; c < k; c++) scores[c] = (acc[c] - shift) * inv * invNorm[c] + bias[c];
    return scores;
  }

  /**
   * What each known feature of `text` adds to each cluster's score, heaviest first by its largest share. For
   * explanations (allocates; not the prediction path).
   */
  contributions(text: string): FeatureContribution[] {
    const { featurizer, k, zero } = this;
    const n = featurizer.scan(text);
    const known: Array<{ index: number; row: number; x: number }> = [];
    let norm2 = 0;
    for (let t = 0; t < n; t++) {
      const f = featurizer.touched[t];
      const slot = featurizer.table[f];
      const row = slot >>> COUNT_BITS;
      const x = this.tfWeight[slot & COUNT_MAX] * (row > 0 ? this.idf[row - 1] : this.idfUnseen);
      norm2 += x * x;
      if (row > 0) known.push({ index: f, row: row - 1, x });
    }
    featurizer.clear(n);
    const inv = norm2 > 0 ? 1 / Math.sqrt(norm2) : 0;
    const out = known.map(({ index, row, x }): FeatureContribution => {
      const value = x * inv;
      const at = (row + 1) * this.recordBytes + 8;
      const w = Array.from({ length: k }, (_, c) => (this.records[at + c] - zero) * this.steps[row]);
      const mean = this.kind === 'linear' ? w.reduce((s, v) => s + v, 0) / k : 0;
      return { index, value, perCluster: w.map((v, c) => value * (v - mean) * this.invNorm[c]) };
    });
    const weight = (c: FeatureContribution) => Math.max(...c.perCluster.map(Math.abs));
    return out.sort((a, b) => weight(b) - weight(a) || a.index - b.index);
  }

  /** The prompt's features with readable names (Featurizer.terms with the model's settings). */
  terms(text: string): FeatureTerm[] {
    return this.featurizer.terms(text);
  }

  /** Bytes held by the model's arrays (row data, stored arrays, the featurizer's table). */
  memoryBytes(): number {
    const stored = this.features.byteLength + this.idf.byteLength + this.steps.byteLength + this.bias.byteLength;
    return stored + this.records.byteLength + this.featurizer.table.byteLength + this.tfWeight.byteLength;
  }
}

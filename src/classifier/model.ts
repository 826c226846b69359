/** A trained classifier: hashed TF-IDF features and unit centroids; `predict` is the microsecond hot path. */
import { labelConfidence } from './calibration.js';
import { COUNT_BITS, COUNT_MAX, Featurizer, type FeatureSettings } from './featurize.js';
import type { Prediction, PromptClassifier } from './types.js';

export interface ClusterInfo {
  id: number;
  label: string;
  /** Training examples assigned to the cluster. */
  size: number;
  /** Share of the cluster's examples carrying its label; null when trained without labels. */
  purity: number | null;
  /** Heaviest word features of the centroid, most important first. */
  topTerms: string[];
}

export interface ModelMetadata {
  mode: 'supervised' | 'unsupervised';
  k: number;
  features: FeatureSettings;
  /** Examples the model was trained on. */
  corpusSize: number;
  /** Distinct hashed features seen in training (rows of the centroid matrix). */
  featureCount: number;
  seed: number;
  restarts: number;
  /** Mean cosine similarity of training examples to their centroid. */
  objective: number;
  /**
   * Softmax temperature over the cosines that turns them into `confidence`: fitted on the labelled training
   * prompts (mean NLL of their labels); without labels, UNLABELLED_TEMPERATURE.
   */
  temperature: number;
  clusters: ClusterInfo[];
  /** Share of all examples whose cluster carries their label; null without labels. */
  purity: number | null;
  /** Distinct labels of the training data, sorted. */
  labels: string[];
  /** Where the training data came from (a file name), when known. */
  source: string | null;
}

/** Centroids as stored: per row, k non-negative weights quantised to bytes against the row's own step. */
export interface QuantizedCentroids {
  /** Row-major, features.length * k: the weight in units of its row's step (0..255). */
  values: Uint8Array;
  /** Per row: the step, i.e. the row's largest weight / 255. */
  steps: Float32Array;
}

/** Everything needed to predict, as stored in the artifact. */
export interface ModelParts {
  metadata: ModelMetadata;
  clusterLabels: string[];
  /** Hashed feature index of each centroid row (distinct; most frequent features first). */
  features: Int32Array;
  idf: Float32Array;
  idfUnseen: number;
  /** Unit centroids, feature-major (features.length * k) as training makes them, or quantised as stored. */
  centroids: Float32Array | QuantizedCentroids;
}

const QUANT_LEVELS = 255;

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
export function quantizeCentroids(centroids: Float32Array, rows: number, k: number): QuantizedCentroids {
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

export class ClassifierModel implements PromptClassifier {
  readonly k: number;
  readonly clusterLabels: readonly string[];
  readonly metadata: ModelMetadata;
  private readonly features: Int32Array;
  private readonly idf: Float32Array;
  private readonly idfUnseen: number;
  private readonly featurizer: Featurizer;
  /** Quantisation step per centroid row (the weights themselves live only in `records`). */
  private readonly steps: Float32Array;
  /**
   * One record of `recordBytes` per table row r (r = centroid row + 1; row 0 stands for every feature unseen
   * in training): its IDF and its IDF times its quantisation step as two float32, then its k weight bytes
   * padded with zeros to `stride` (k rounded up to a multiple of 4, so that scoring runs in blocks of 8 or 4
   * clusters only). Everything scoring needs of a feature sits in one record: 24 bytes at k = 16.
   */
  private readonly records: Uint8Array;
  /** The same memory as float32, for the two scales at the start of each record. */
  private readonly recordScales: Float32Array;
  private readonly recordBytes: number;
  private readonly stride: number;
  /** 1 / norm of each quantised centroid, so that scores stay exact cosines. */
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
    const q = parts.centroids instanceof Float32Array ? quantizeCentroids(parts.centroids, rows, k) : parts.centroids;
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
        norm2[c] += (v * q.steps[row]) ** 2;
      }
    }
    this.invNorm = norm2.map((x) => (x > 0 ? 1 / Math.sqrt(x) : 0));
    this.tfWeight = Float64Array.from({ length: COUNT_MAX + 1 }, (_, tf) => this.featurizer.tfWeight(tf));
    this.acc = new Float64Array(stride);
    this.scores = this.acc.subarray(0, k);
    this.sameLabel = this.clusterLabels.map((l) => Uint8Array.from(this.clusterLabels, (o) => (o === l ? 1 : 0)));
  }

  /** The model's arrays in artifact layout (the weights copied out of the records: for saving, not predicting). */
  get parts(): ModelParts & { centroids: QuantizedCentroids } {
    const { metadata, clusterLabels, features, idf, idfUnseen, steps, k, records, recordBytes } = this;
    const values = new Uint8Array(features.length * k);
    for (let row = 0; row < features.length; row++) {
      const at = (row + 1) * recordBytes + 8;
      values.set(records.subarray(at, at + k), row * k);
    }
    return { metadata, clusterLabels: [...clusterLabels], features, idf, idfUnseen, centroids: { values, steps } };
  }

  /** Nearest centroid by cosine. With a single cluster the margin is its score (as if a second scored 0). */
  predict(text: string): Prediction {
    const scores = this.scoreInto(text);
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
      confidence: labelConfidence(scores, this.k, best, this.metadata.temperature, this.sameLabel[best]),
      scores: list,
    };
  }

  /**
   * Cosine similarity of `text` to every centroid, into a buffer reused by the next call. First one pass over
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
      weights[m] = tf * recordScales[(at >> 2) + 1];
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
    for (c = 0; c < k; c++) scores[c] = acc[c] * inv * invNorm[c];
    return scores;
  }

  /** Bytes held by the model's arrays (row data, stored arrays, the featurizer's table). */
  memoryBytes(): number {
    const stored = this.features.byteLength + this.idf.byteLength + this.steps.byteLength;
    return stored + this.records.byteLength + this.featurizer.table.byteLength + this.tfWeight.byteLength;
  }
}

/** A trained classifier: hashed TF-IDF features and unit centroids; `predict` is the microsecond hot path. */
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
  clusters: ClusterInfo[];
  /** Share of all examples whose cluster carries their label; null without labels. */
  purity: number | null;
  /** Distinct labels of the training data, sorted. */
  labels: string[];
  /** Where the training data came from (a file name), when known. */
  source: string | null;
}

/** Everything needed to predict, as stored in the artifact. */
export interface ModelParts {
  metadata: ModelMetadata;
  clusterLabels: string[];
  /** Hashed feature index of each centroid row (distinct; most frequent features first). */
  features: Int32Array;
  idf: Float32Array;
  idfUnseen: number;
  /** Unit centroids, feature-major: features.length * k. */
  centroids: Float32Array;
}

export class ClassifierModel implements PromptClassifier {
  readonly k: number;
  readonly clusterLabels: readonly string[];
  readonly metadata: ModelMetadata;
  private readonly features: Int32Array;
  private readonly idfUnseen: number;
  private readonly featurizer: Featurizer;
  /** Per centroid row: its IDF then its k centroid weights, side by side so one cache line serves a feature. */
  private readonly rowData: Float32Array;
  /** TF weight by count (the featurizer's counts saturate at COUNT_MAX). */
  private readonly tfWeight: Float64Array;
  private readonly acc: Float64Array;
  /** Scratch for scoreInto: row offset and weight of each distinct feature of the text. */
  private offsets = new Int32Array(1024);
  private weights = new Float64Array(1024);

  constructor(parts: ModelParts) {
    const k = parts.clusterLabels.length;
    const rows = parts.features.length;
    this.k = k;
    this.clusterLabels = Object.freeze([...parts.clusterLabels]);
    this.metadata = parts.metadata;
    this.features = parts.features;
    this.idfUnseen = parts.idfUnseen;
    this.featurizer = new Featurizer(parts.metadata.features);
    // A feature's slot in the featurizer's table carries its row + 1 above the count bits (0: never seen).
    for (let row = 0; row < rows; row++) this.featurizer.table[parts.features[row]] = (row + 1) << COUNT_BITS;
    this.rowData = new Float32Array(rows * (k + 1));
    for (let row = 0; row < rows; row++) {
      const off = row * (k + 1);
      this.rowData[off] = parts.idf[row];
      for (let c = 0; c < k; c++) this.rowData[off + 1 + c] = parts.centroids[row * k + c];
    }
    this.tfWeight = Float64Array.from({ length: COUNT_MAX + 1 }, (_, tf) => this.featurizer.tfWeight(tf));
    this.acc = new Float64Array(k);
  }

  /** The model's arrays in artifact layout (rebuilt on each call: for saving, not for the hot path). */
  get parts(): ModelParts {
    const { k, features, rowData } = this;
    const rows = features.length;
    const idf = new Float32Array(rows);
    const centroids = new Float32Array(rows * k);
    for (let row = 0; row < rows; row++) {
      const off = row * (k + 1);
      idf[row] = rowData[off];
      for (let c = 0; c < k; c++) centroids[row * k + c] = rowData[off + 1 + c];
    }
    return { metadata: this.metadata, clusterLabels: [...this.clusterLabels], features, idf, idfUnseen: this.idfUnseen, centroids };
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
    return {
      cluster: best,
      label: this.clusterLabels[best],
      score,
      margin: second < 0 ? score : score - scores[second],
      scores: Array.from(scores),
    };
  }

  /**
   * Cosine similarity of `text` to every centroid, into a buffer reused by the next call. First one pass over
   * the text's distinct features (weight, norm, row offset), then the dot products four clusters at a time
   * with the sums in locals: the rows just fetched are still in cache, and no accumulator goes to memory.
   */
  private scoreInto(text: string): Float64Array {
    const { featurizer, rowData, acc, k, tfWeight, idfUnseen } = this;
    const n = featurizer.scan(text);
    const touched = featurizer.touched;
    const table = featurizer.table;
    if (this.offsets.length < n) {
      this.offsets = new Int32Array(touched.length);
      this.weights = new Float64Array(touched.length);
    }
    const { offsets, weights } = this;
    const stride = k + 1;
    let m = 0;
    let norm2 = 0;
    for (let t = 0; t < n; t++) {
      const f = touched[t];
      const slot = table[f];
      table[f] = slot & ~COUNT_MAX;
      const row = (slot >>> COUNT_BITS) - 1;
      const tf = tfWeight[slot & COUNT_MAX];
      if (row < 0) {
        norm2 += tf * idfUnseen * (tf * idfUnseen);
        continue;
      }
      const off = row * stride;
      const w = tf * rowData[off];
      norm2 += w * w;
      offsets[m] = off + 1;
      weights[m] = w;
      m++;
    }
    const inv = norm2 > 0 ? 1 / Math.sqrt(norm2) : 0;
    let c = 0;
    for (; c + 4 <= k; c += 4) {
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      for (let j = 0; j < m; j++) {
        const o = offsets[j] + c;
        const w = weights[j];
        a0 += w * rowData[o];
        a1 += w * rowData[o + 1];
        a2 += w * rowData[o + 2];
        a3 += w * rowData[o + 3];
      }
      acc[c] = a0 * inv;
      acc[c + 1] = a1 * inv;
      acc[c + 2] = a2 * inv;
      acc[c + 3] = a3 * inv;
    }
    for (; c < k; c++) {
      let a = 0;
      for (let j = 0; j < m; j++) a += weights[j] * rowData[offsets[j] + c];
      acc[c] = a * inv;
    }
    return acc;
  }

  /** Bytes held by the model's arrays (row data, feature list, the featurizer's table). */
  memoryBytes(): number {
    return this.rowData.byteLength + this.features.byteLength + this.featurizer.table.byteLength + this.tfWeight.byteLength;
  }
}

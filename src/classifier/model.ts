/** A trained classifier: hashed TF-IDF features and unit centroids; `predict` is the microsecond hot path. */
import { Featurizer, type FeatureSettings } from './featurize.js';
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
  /** Hashed feature index of each centroid row, ascending. */
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
  readonly parts: Readonly<ModelParts>;
  private readonly featurizer: Featurizer;
  /** Hashed feature index -> centroid row, or -1 for a feature never seen in training. */
  private readonly rowOf: Int32Array;
  private readonly acc: Float64Array;

  constructor(parts: ModelParts) {
    this.parts = parts;
    this.metadata = parts.metadata;
    this.k = parts.clusterLabels.length;
    this.clusterLabels = Object.freeze([...parts.clusterLabels]);
    this.featurizer = new Featurizer(parts.metadata.features);
    this.rowOf = new Int32Array(parts.metadata.features.dim).fill(-1);
    for (let row = 0; row < parts.features.length; row++) this.rowOf[parts.features[row]] = row;
    this.acc = new Float64Array(this.k);
  }

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

  /** Cosine similarity of `text` to every centroid, into a buffer reused by the next call. */
  private scoreInto(text: string): Float64Array {
    const { featurizer, rowOf, acc, k } = this;
    const { idf, centroids, idfUnseen } = this.parts;
    const n = featurizer.scan(text);
    const touched = featurizer.touched;
    const counts = featurizer.counts;
    const sublinear = featurizer.settings.sublinearTf;
    acc.fill(0);
    let norm2 = 0;
    for (let t = 0; t < n; t++) {
      const f = touched[t];
      const tf = counts[f];
      counts[f] = 0;
      const row = rowOf[f];
      const w = (tf === 1 ? 1 : sublinear ? 1 + Math.log(tf) : tf) * (row >= 0 ? idf[row] : idfUnseen);
      norm2 += w * w;
      if (row < 0) continue;
      const off = row * k;
      for (let c = 0; c < k; c++) acc[c] += w * centroids[off + c];
    }
    if (norm2 > 0) {
      const inv = 1 / Math.sqrt(norm2);
      for (let c = 0; c < k; c++) acc[c] *= inv;
    }
    return acc;
  }

  /** Bytes held by the model's arrays (centroids, IDF, feature map, featurizer scratch). */
  memoryBytes(): number {
    const p = this.parts;
    return p.centroids.byteLength + p.idf.byteLength + p.features.byteLength + this.rowOf.byteLength + this.featurizer.counts.byteLength;
  }
}

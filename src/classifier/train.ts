/** Training: TF-IDF over the corpus, then centroids by spherical k-means (unsupervised) or per label (supervised). */
import { ClassifierError } from './errors.js';
import { DEFAULT_FEATURES, Featurizer, UNSUPERVISED_FEATURES, type FeatureSettings } from './featurize.js';
import { KMEANS_DEFAULTS, nearestCentroids, sphericalKMeans } from './kmeans.js';
import { fitTemperature } from './calibration.js';
import { ClassifierModel, UNLABELLED_TEMPERATURE, type ClusterInfo } from './model.js';
import { fitTfidf, type SparseVector } from './tfidf.js';

export interface LabelledText {
  text: string;
  label?: string;
  /** Language of the prompt (an ISO 639-1 code such as `zh`), when the data names it. */
  lang?: string;
}

export interface TrainProgress {
  phase: 'featurize' | 'cluster';
  done: number;
  total: number;
}

export interface TrainOptions {
  /** Clusters for unsupervised training. */
  k?: number;
  seed?: number;
  /** Centroids per label from the labels (default when no k is given), or k-means clusters named afterwards. */
  supervised?: boolean;
  restarts?: number;
  /** Supervised: k-means centroids within each label (capped by the label's examples). */
  centroidsPerLabel?: number;
  maxIterations?: number;
  /** Feature settings over DEFAULT_FEATURES (and UNSUPERVISED_FEATURES when clustering). */
  features?: Partial<FeatureSettings>;
  /** Recorded in the metadata (a file name). */
  source?: string;
  onProgress?: (progress: TrainProgress) => void;
}

export const TRAIN_DEFAULTS = { centroidsPerLabel: 1, topTerms: 8 } as const;

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1) throw new ClassifierError('invalid_option', `${name} must be a positive integer, got ${v}`);
  return v;
}

export function trainClassifier(examples: readonly LabelledText[], options: TrainOptions = {}): ClassifierModel {
  if (examples.length === 0) throw new ClassifierError('data_empty', 'no training examples');
  const supervised = options.supervised ?? options.k === undefined;
  const seed = options.seed ?? KMEANS_DEFAULTS.seed;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new ClassifierError('invalid_option', `seed must be an integer from 0 to 4294967295, got ${seed}`);
  const restarts = positiveInt('restarts', options.restarts, KMEANS_DEFAULTS.restarts);
  const maxIterations = positiveInt('maxIterations', options.maxIterations, KMEANS_DEFAULTS.maxIterations);
  const features: FeatureSettings = { ...DEFAULT_FEATURES, ...(supervised ? {} : UNSUPERVISED_FEATURES), ...options.features };
  const featurizer = new Featurizer(features);
  examples.forEach((e, i) => {
    if (typeof e.text !== 'string' || e.text.trim() === '') throw new ClassifierError('data_empty_text', `example ${i + 1} has an empty text`);
    if (supervised && (typeof e.label !== 'string' || e.label === '')) {
      throw new ClassifierError('data_missing_field', `example ${i + 1} has no label (supervised training needs a label on every example; give k for clustering)`);
    }
  });

  const progress = options.onProgress;
  const fit = fitTfidf(
    examples.map((e) => e.text),
    featurizer,
    progress && ((done) => progress({ phase: 'featurize', done, total: examples.length })),
  );
  const rows = fit.features.length;

  let centroids: Float32Array;
  let clusterLabels: string[];
  let objective: number;
  if (supervised) {
    ({ centroids, clusterLabels, objective } = perLabelCentroids(examples, fit.vectors, rows, {
      perLabel: positiveInt('centroidsPerLabel', options.centroidsPerLabel, TRAIN_DEFAULTS.centroidsPerLabel),
      seed,
      restarts,
      maxIterations,
      progress,
    }));
  } else {
    if (options.k === undefined) throw new ClassifierError('invalid_option', 'k is required for unsupervised training');
    const k = positiveInt('k', options.k, options.k);
    const result = sphericalKMeans(fit.vectors, rows, {
      k,
      seed,
      restarts,
      maxIterations,
      onIteration: progress && ((r, it) => progress({ phase: 'cluster', done: r * maxIterations + it, total: restarts * maxIterations })),
    });
    centroids = result.centroids;
    objective = result.objective;
    clusterLabels = majorityLabels(examples, result.assignment, k);
  }

  const k = clusterLabels.length;
  const assignment = nearestCentroids(fit.vectors, centroids, k);
  const temperature = centroidTemperature(examples, fit.vectors, centroids, clusterLabels);
  const clusters = describeClusters(examples, assignment, clusterLabels, topTermsOf(examples, featurizer, fit.features, centroids, k));
  let labelled = 0;
  let agreeing = 0;
  examples.forEach((e, d) => {
    if (e.label === undefined) return;
    labelled++;
    if (e.label === clusterLabels[assignment[d]]) agreeing++;
  });
  const labels = [...new Set(examples.flatMap((e) => (e.label === undefined ? [] : [e.label])))].sort();
  return new ClassifierModel({
    metadata: {
      mode: supervised ? 'supervised' : 'unsupervised',
      k,
      features,
      corpusSize: examples.length,
      featureCount: rows,
      seed,
      restarts,
      objective,
      temperature,
      clusters,
      purity: labelled > 0 ? agreeing / labelled : null,
      labels,
      source: options.source ?? null,
    },
    clusterLabels,
    features: fit.features,
    idf: fit.idf,
    idfUnseen: fit.idfUnseen,
    centroids,
  });
}

/**
 * The confidence proxy of a centroid model: the temperature of a softmax over the cosines that best fits the
 * labelled training prompts (a centroid averages hundreds of prompts, so it barely overfits any one of them).
 */
function centroidTemperature(examples: readonly LabelledText[], vectors: readonly SparseVector[], centroids: Float32Array, clusterLabels: readonly string[]): number {
  const labels = [...new Set(clusterLabels)];
  const k = clusterLabels.length;
  const truth = Int32Array.from(examples, (e) => (e.label === undefined ? -1 : labels.indexOf(e.label)));
  if (!truth.some((t) => t >= 0)) return UNLABELLED_TEMPERATURE;
  const scores = new Float64Array(examples.length * k);
  vectors.forEach(({ idx, val }, d) => {
    for (let t = 0; t < idx.length; t++) {
      const off = idx[t] * k;
      for (let c = 0; c < k; c++) scores[d * k + c] += val[t] * centroids[off + c];
    }
  });
  return fitTemperature({ scores, k, truth, clusterLabel: Int32Array.from(clusterLabels, (l) => labels.indexOf(l)) });
}

interface PerLabelOptions {
  perLabel: number;
  seed: number;
  restarts: number;
  maxIterations: number;
  progress?: (progress: TrainProgress) => void;
}

/** Supervised: each label's examples clustered on their own into up to `perLabel` centroids. */
function perLabelCentroids(examples: readonly LabelledText[], vectors: readonly SparseVector[], rows: number, o: PerLabelOptions) {
  const byLabel = new Map<string, SparseVector[]>();
  examples.forEach((e, i) => {
    const list = byLabel.get(e.label!) ?? [];
    list.push(vectors[i]);
    byLabel.set(e.label!, list);
  });
  const labels = [...byLabel.keys()].sort();
  const parts: Array<{ label: string; centroids: Float32Array; k: number; objective: number; size: number }> = [];
  labels.forEach((label, i) => {
    const members = byLabel.get(label)!;
    const k = Math.min(o.perLabel, members.length);
    const result = sphericalKMeans(members, rows, { k, seed: o.seed, restarts: o.restarts, maxIterations: o.maxIterations });
    parts.push({ label, centroids: result.centroids, k, objective: result.objective, size: members.length });
    o.progress?.({ phase: 'cluster', done: i + 1, total: labels.length });
  });
  const k = parts.reduce((s, p) => s + p.k, 0);
  const centroids = new Float32Array(rows * k);
  const clusterLabels: string[] = [];
  let objective = 0;
  for (const part of parts) {
    const base = clusterLabels.length;
    for (let row = 0; row < rows; row++) {
      for (let c = 0; c < part.k; c++) centroids[row * k + base + c] = part.centroids[row * part.k + c];
    }
    for (let c = 0; c < part.k; c++) clusterLabels.push(part.label);
    objective += part.objective * part.size;
  }
  return { centroids, clusterLabels, objective: objective / examples.length };
}

/** Names each cluster after its most frequent label (ties: alphabetical), or cluster-N without labels. */
function majorityLabels(examples: readonly LabelledText[], assignment: Int32Array, k: number): string[] {
  return Array.from({ length: k }, (_, c) => {
    const counts = labelCounts(examples, assignment, c);
    let best: string | undefined;
    for (const [label, n] of [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (best === undefined || n > counts.get(best)!) best = label;
    }
    return best ?? `cluster-${c}`;
  });
}

function labelCounts(examples: readonly LabelledText[], assignment: Int32Array, c: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let d = 0; d < examples.length; d++) {
    const label = examples[d].label;
    if (assignment[d] === c && label !== undefined) counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  return counts;
}

function describeClusters(examples: readonly LabelledText[], assignment: Int32Array, labels: string[], topTerms: string[][]): ClusterInfo[] {
  return labels.map((label, id) => {
    let size = 0;
    for (let d = 0; d < assignment.length; d++) if (assignment[d] === id) size++;
    const counts = labelCounts(examples, assignment, id);
    const labelled = [...counts.values()].reduce((s, n) => s + n, 0);
    return { id, label, size, purity: labelled > 0 ? (counts.get(label) ?? 0) / labelled : null, topTerms: topTerms[id] };
  });
}

/**
 * The word features that most set each centroid apart (its weight minus the mean weight in the other
 * centroids), named by the first word seen with that hash (digits shown folded, as they are hashed).
 */
function topTermsOf(examples: readonly LabelledText[], featurizer: Featurizer, features: Int32Array, centroids: Float32Array, k: number): string[][] {
  const fold = featurizer.settings.foldDigits;
  const names = new Map<number, string>();
  // A bucket shared by two words, or by a word and a character n-gram, cannot be named honestly: skip it.
  const shared = new Set<number>();
  const settings = featurizer.settings;
  const charsOnly = settings.charNgramMax > 0 ? new Featurizer({ ...settings, wordNgrams: 0 }) : undefined;
  for (const e of examples) {
    for (const [f, raw] of featurizer.wordTerms(e.text)) {
      const term = fold ? raw.replace(/[0-9]/g, '0') : raw;
      const known = names.get(f);
      if (known === undefined) names.set(f, term);
      else if (known !== term) shared.add(f);
    }
    if (charsOnly) {
      const n = charsOnly.scan(e.text);
      for (let t = 0; t < n; t++) shared.add(charsOnly.touched[t]);
      charsOnly.clear(n);
    }
  }
  for (const f of shared) names.delete(f);
  const named: Array<{ row: number; term: string; total: number }> = [];
  for (let row = 0; row < features.length; row++) {
    const term = names.get(features[row]);
    if (term === undefined) continue;
    let total = 0;
    for (let c = 0; c < k; c++) total += centroids[row * k + c];
    named.push({ row, term, total });
  }
  const limit = TRAIN_DEFAULTS.topTerms;
  return Array.from({ length: k }, (_, c) => {
    // Keep the best few by insertion: far cheaper than sorting every named feature per cluster.
    const top: Array<{ w: number; term: string }> = [];
    for (const { row, term, total } of named) {
      const own = centroids[row * k + c];
      const w = k > 1 ? own - (total - own) / (k - 1) : own;
      if (own <= 0 || w <= 0 || (top.length === limit && w <= top[top.length - 1].w)) continue;
      let at = top.length;
      while (at > 0 && top[at - 1].w < w) at--;
      top.splice(at, 0, { w, term });
      if (top.length > limit) top.pop();
    }
    return top.map((t) => t.term);
  });
}

/**
 * Training: TF-IDF over the corpus, then a multinomial logistic regression (supervised, the default), centroids
 * per label (supervised, `model: 'centroid'`) or spherical k-means clusters (unsupervised, `k`).
 */
import { ClassifierError } from './errors.js';
import { DEFAULT_FEATURES, Featurizer, UNSUPERVISED_FEATURES, type FeatureSettings } from './featurize.js';
import { createRandom } from './hash.js';
import { KMEANS_DEFAULTS, nearestCentroids, sphericalKMeans } from './kmeans.js';
import { fitTemperature, meanNll } from './calibration.js';
import { balancedWeights, fitLogisticRegression, logitsOf, type LogisticWeights } from './logistic-regression.js';
import { ClassifierModel, UNLABELLED_TEMPERATURE, type ClusterInfo, type ModelKind, type ModelMetadata } from './model.js';
import { fitTfidf, type SparseVector } from './tfidf.js';

export interface LabelledText {
  text: string;
  label?: string;
  /** Language of the prompt (an ISO 639-1 code such as `zh`), when the data names it. */
  lang?: string;
}

export interface TrainProgress {
  /** featurize; then cluster (centroids), or fit, calibrate and refit (linear). */
  phase: 'featurize' | 'cluster' | 'fit' | 'calibrate' | 'refit';
  done: number;
  total: number;
}

export interface TrainOptions {
  /** Clusters for unsupervised training. */
  k?: number;
  seed?: number;
  /** Centroids per label from the labels (default when no k is given), or k-means clusters named afterwards. */
  supervised?: boolean;
  /** Supervised learner: `linear` (multinomial logistic regression, the default) or `centroid`. */
  model?: ModelKind;
  /** Linear: L2 penalty on the weights. */
  l2?: number;
  /** Linear: share of each label's training prompts held out to fit the temperature. */
  calibrationShare?: number;
  /** Recorded in the metadata: the digest of the corpus the examples came from. */
  corpusDigest?: string;
  restarts?: number;
  /** Centroid supervised: k-means centroids within each label (capped by the label's examples). */
  centroidsPerLabel?: number;
  /** k-means iterations, or L-BFGS iterations per linear fit. */
  maxIterations?: number;
  /** Feature settings over DEFAULT_FEATURES (and UNSUPERVISED_FEATURES when clustering). */
  features?: Partial<FeatureSettings>;
  /** Recorded in the metadata (a file name). */
  source?: string;
  onProgress?: (progress: TrainProgress) => void;
}

/**
 * l2 5e-6: on the development set (13,538 training prompts, idf^2.5) 2.5e-6 scored 95.2%, 5e-6 95.3%, 1e-5
 * 94.7%; larger penalties lose more, lower ones need more iterations (training time).
 */
export const TRAIN_DEFAULTS = { centroidsPerLabel: 1, topTerms: 8, l2: 5e-6, calibrationShare: 0.1, linearIterations: 150 } as const;

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1) throw new ClassifierError('invalid_option', `${name} must be a positive integer, got ${v}`);
  return v;
}

export function trainClassifier(examples: readonly LabelledText[], options: TrainOptions = {}): ClassifierModel {
  if (examples.length === 0) throw new ClassifierError('data_empty', 'no training examples');
  const supervised = options.supervised ?? options.k === undefined;
  const kind: ModelKind = supervised ? (options.model ?? 'linear') : 'centroid';
  if (kind !== 'linear' && kind !== 'centroid') throw new ClassifierError('invalid_option', `model must be 'linear' or 'centroid', got '${String(kind)}'`);
  if (!supervised && options.model === 'linear') throw new ClassifierError('invalid_option', 'a linear model needs labels: it cannot be trained with k (clustering)');
  const seed = options.seed ?? KMEANS_DEFAULTS.seed;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new ClassifierError('invalid_option', `seed must be an integer from 0 to 4294967295, got ${seed}`);
  const restarts = positiveInt('restarts', options.restarts, KMEANS_DEFAULTS.restarts);
  const maxIterations = positiveInt('maxIterations', options.maxIterations, kind === 'linear' ? TRAIN_DEFAULTS.linearIterations : KMEANS_DEFAULTS.maxIterations);
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
  const labels = [...new Set(examples.flatMap((e) => (e.label === undefined ? [] : [e.label])))].sort();

  let weights: Float32Array;
  let bias: Float32Array;
  let clusterLabels: string[];
  let objective: number;
  let temperature: number;
  let linear: ModelMetadata['linear'] = null;
  if (kind === 'linear') {
    const l2 = options.l2 ?? TRAIN_DEFAULTS.l2;
    if (!(l2 > 0 && l2 < Infinity)) throw new ClassifierError('invalid_option', `l2 must be a positive number, got ${l2}`);
    const share = options.calibrationShare ?? TRAIN_DEFAULTS.calibrationShare;
    if (!(share > 0 && share < 0.5)) throw new ClassifierError('invalid_option', `calibrationShare must be in (0, 0.5), got ${share}`);
    const result = linearModel(examples, fit.vectors, labels, rows, { l2, share, seed, maxIterations, progress });
    ({ weights, bias, objective, temperature } = result);
    linear = { l2, iterations: result.iterations, heldOut: result.heldOut, heldOutNll: result.heldOutNll };
    clusterLabels = labels;
  } else {
    let centroids: Float32Array;
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
    weights = centroids;
    bias = new Float32Array(clusterLabels.length);
    temperature = centroidTemperature(examples, fit.vectors, centroids, clusterLabels);
  }

  const k = clusterLabels.length;
  const assignment = kind === 'linear' ? argmaxLogits(fit.vectors, weights, bias, k) : nearestCentroids(fit.vectors, weights, k);
  const clusters = describeClusters(examples, assignment, clusterLabels, topTermsOf(examples, featurizer, fit.features, weights, k));
  let labelled = 0;
  let agreeing = 0;
  examples.forEach((e, d) => {
    if (e.label === undefined) return;
    labelled++;
    if (e.label === clusterLabels[assignment[d]]) agreeing++;
  });
  return new ClassifierModel({
    metadata: {
      kind,
      mode: supervised ? 'supervised' : 'unsupervised',
      k,
      features,
      corpusSize: examples.length,
      featureCount: rows,
      seed,
      restarts: kind === 'linear' ? 0 : restarts,
      objective,
      temperature,
      linear,
      corpusDigest: options.corpusDigest ?? null,
      clusters,
      purity: labelled > 0 ? agreeing / labelled : null,
      labels,
      source: options.source ?? null,
    },
    clusterLabels,
    features: fit.features,
    idf: fit.idf,
    idfUnseen: fit.idfUnseen,
    weights,
    bias,
  });
}

interface LinearOptions {
  l2: number;
  share: number;
  seed: number;
  maxIterations: number;
  progress?: (progress: TrainProgress) => void;
}

/**
 * The linear model: a stratified, seeded share of the training prompts is held out; the model fitted on the
 * rest gives logits on it, and the temperature minimising their NLL is the calibration (the development set is
 * never used). The model is then refitted on every prompt, warm-started from the first fit, and keeps that
 * temperature.
 */
function linearModel(examples: readonly LabelledText[], vectors: readonly SparseVector[], labels: string[], rows: number, o: LinearOptions) {
  const k = labels.length;
  const y = Int32Array.from(examples, (e) => labels.indexOf(e.label!));
  const heldOut = stratifiedHoldOut(y, k, o.share, o.seed);
  const fitPart = (keep: (d: number) => boolean, phase: TrainProgress['phase'], init?: LogisticWeights) => {
    const ids = [...y.keys()].filter(keep);
    const part = ids.map((d) => vectors[d]);
    const partY = Int32Array.from(ids, (d) => y[d]);
    return fitLogisticRegression(part, partY, balancedWeights(partY, k), rows, k, {
      l2: o.l2,
      maxIterations: o.maxIterations,
      init,
      onIteration: o.progress && ((it) => o.progress!({ phase, done: it, total: o.maxIterations })),
    });
  };
  const first = fitPart((d) => !heldOut[d], 'fit');
  const ids = [...y.keys()].filter((d) => heldOut[d]);
  const scores = new Float64Array(ids.length * k);
  const z = new Float64Array(k);
  ids.forEach((d, i) => scores.set(logitsOf(vectors[d], first.weights, first.bias, k, z), i * k));
  const calibration = { scores, k, truth: Int32Array.from(ids, (d) => y[d]), clusterLabel: Int32Array.from(labels, (_, c) => c) };
  const temperature = fitTemperature(calibration);
  const heldOutNll = meanNll(calibration, 1 / temperature);
  o.progress?.({ phase: 'calibrate', done: 1, total: 1 });
  const final = fitPart(() => true, 'refit', first);
  return {
    weights: Float32Array.from(final.weights),
    bias: Float32Array.from(final.bias),
    objective: final.objective,
    iterations: first.iterations + final.iterations,
    temperature,
    heldOut: ids.length,
    heldOutNll,
  };
}

/** Marks `share` of each label's examples (at least one, when it has two or more) as held out; seeded. */
function stratifiedHoldOut(y: Int32Array, k: number, share: number, seed: number): Uint8Array {
  const random = createRandom(seed);
  const out = new Uint8Array(y.length);
  for (let c = 0; c < k; c++) {
    const ids = [...y.keys()].filter((d) => y[d] === c);
    // Fisher-Yates with the seeded generator.
    for (let i = ids.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [ids[i], ids[j]] = [ids[j], ids[i]];
    }
    const take = ids.length < 2 ? 0 : Math.max(1, Math.round(share * ids.length));
    for (let i = 0; i < take; i++) out[ids[i]] = 1;
  }
  return out;
}

function argmaxLogits(vectors: readonly SparseVector[], weights: Float32Array, bias: Float32Array, k: number): Int32Array {
  const z = new Float64Array(k);
  return Int32Array.from(vectors, (v) => {
    logitsOf(v, weights, bias, k, z);
    let best = 0;
    for (let c = 1; c < k; c++) if (z[c] > z[best]) best = c;
    return best;
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
 * The named features (words, word pairs, spaceless-script characters and pairs) that most set each cluster
 * apart: its weight minus the mean weight of the others, for centroids and linear weights alike.
 */
function topTermsOf(examples: readonly LabelledText[], featurizer: Featurizer, features: Int32Array, weights: Float32Array, k: number): string[][] {
  const names = new Map<number, string>();
  // A bucket shared by two terms (or by a term and a character n-gram) cannot be named honestly: skip it.
  const shared = new Set<number>();
  for (const e of examples) {
    for (const { index, kind, term } of featurizer.terms(e.text)) {
      if (kind === 'character n-gram') {
        shared.add(index);
        continue;
      }
      const known = names.get(index);
      if (known === undefined) names.set(index, term);
      else if (known !== term) shared.add(index);
    }
  }
  for (const f of shared) names.delete(f);
  const named: Array<{ row: number; term: string; total: number }> = [];
  for (let row = 0; row < features.length; row++) {
    const term = names.get(features[row]);
    if (term === undefined) continue;
    let total = 0;
    for (let c = 0; c < k; c++) total += weights[row * k + c];
    named.push({ row, term, total });
  }
  const limit = TRAIN_DEFAULTS.topTerms;
  return Array.from({ length: k }, (_, c) => {
    // Keep the best few by insertion: far cheaper than sorting every named feature per cluster.
    const top: Array<{ w: number; term: string }> = [];
    for (const { row, term, total } of named) {
      const own = weights[row * k + c];
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

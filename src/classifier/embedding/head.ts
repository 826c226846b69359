/**
 * The head on the embeddings: multinomial logistic regression (a linear softmax layer) on unit-length
 * vectors. Trained by full-batch gradient descent with Nesterov momentum from zero weights, so the same
 * vectors and labels always give the same head (no random draws at all); L2-regularised so that its
 * probabilities stay moderate on prompts unlike the corpus.
 */
import { EmbeddingError } from './errors.js';

export interface HeadMetadata {
  /** Examples the head was trained on, and how many per label. */
  examples: number;
  perLabel: Record<string, number>;
  /** Share of the training examples the head labels correctly. */
  trainAccuracy: number;
  epochs: number;
  l2: number;
  /** Where the training prompts came from. */
  source: string | null;
  /** The project corpus's digest (corpusDigest()) when trained from it: tells a stale shipped head. */
  corpusDigest: string | null;
}

/**
 * Which prompts the head's encoder can read: `any`, or `latin` (an English encoder such as USE lite: its
 * vocabulary has no CJK, Cyrillic, Arabic or Devanagari words, so such prompts embed to noise).
 */
export type HeadScripts = 'any' | 'latin';
export const HEAD_SCRIPTS: readonly HeadScripts[] = ['any', 'latin'];

const LETTER = /\p{L}/gu;
const LATIN_LETTER = /\p{Script=Latin}/gu;

/** Whether an encoder reading `scripts` reads `text`: always for `any`; for `latin`, when at least half its letters (within maxChars) are Latin. */
export function readsScript(text: string, scripts: HeadScripts, maxChars: number): boolean {
  if (scripts === 'any') return true;
  const head = text.length > maxChars ? text.slice(0, maxChars) : text;
  const letters = head.match(LETTER)?.length ?? 0;
  return letters === 0 || 2 * (head.match(LATIN_LETTER)?.length ?? 0) >= letters;
}

export interface HeadParts {
  /** The provider whose vector space the head was trained in (EmbeddingProvider.name), and its model. */
  provider: string;
  model: string;
  dimension: number;
  labels: string[];
  /** Prompts are cut to this many characters before they are embedded, in training and in use alike. */
  maxChars: number;
  scripts: HeadScripts;
  /** Row-major: labels.length rows of `dimension` weights. */
  weights: Float32Array;
  bias: Float32Array;
  metadata: HeadMetadata;
}

export class EmbeddingHead {
  readonly provider: string;
  readonly model: string;
  readonly dimension: number;
  readonly labels: readonly string[];
  readonly maxChars: number;
  readonly scripts: HeadScripts;
  readonly weights: Float32Array;
  readonly bias: Float32Array;
  readonly metadata: HeadMetadata;

  constructor(parts: HeadParts) {
    const { dimension, labels } = parts;
    if (!Number.isInteger(dimension) || dimension <= 0) throw new EmbeddingError('head_corrupt', `head dimension must be a positive integer, got ${dimension}`);
    if (labels.length < 2 || new Set(labels).size !== labels.length) throw new EmbeddingError('head_corrupt', 'a head needs at least two distinct labels');
    if (parts.weights.length !== labels.length * dimension) throw new EmbeddingError('head_corrupt', `head weights hold ${parts.weights.length} values, expected ${labels.length} x ${dimension}`);
    if (parts.bias.length !== labels.length) throw new EmbeddingError('head_corrupt', `head bias holds ${parts.bias.length} values, expected ${labels.length}`);
    if (!parts.weights.every(Number.isFinite) || !parts.bias.every(Number.isFinite)) throw new EmbeddingError('head_corrupt', 'head weights must be finite numbers');
    this.provider = parts.provider;
    this.model = parts.model;
    this.dimension = dimension;
    this.labels = Object.freeze([...labels]);
    this.maxChars = parts.maxChars;
    if (!HEAD_SCRIPTS.includes(parts.scripts)) throw new EmbeddingError('head_corrupt', `head scripts must be one of ${HEAD_SCRIPTS.join(', ')}, got '${String(parts.scripts)}'`);
    this.scripts = parts.scripts;
    this.weights = parts.weights;
    this.bias = parts.bias;
    this.metadata = parts.metadata;
  }

  /** Whether the head's encoder reads `text` (readsScript). */
  reads(text: string): boolean {
    return readsScript(text, this.scripts, this.maxChars);
  }

  /** Probability per label (in `labels` order) for one vector; the vector is scaled to unit length first. */
  probabilities(vector: ArrayLike<number>): Float64Array {
    if (vector.length !== this.dimension) {
      throw new EmbeddingError('embedding_dimension_mismatch', `the provider's vectors have ${vector.length} dimensions, the head expects ${this.dimension}`);
    }
    const inv = inverseNorm(vector);
    const out = new Float64Array(this.labels.length);
    logits(this.weights, this.bias, vector, 0, this.dimension, inv, out);
    softmaxInPlace(out);
    return out;
  }
}

function inverseNorm(v: ArrayLike<number>, from = 0, dim = v.length): number {
  let sq = 0;
  for (let i = 0; i < dim; i++) sq += v[from + i] * v[from + i];
  return sq > 0 ? 1 / Math.sqrt(sq) : 0;
}

function logits(w: Float32Array, b: Float32Array, x: ArrayLike<number>, from: number, dim: number, scale: number, out: Float64Array): void {
  for (let l = 0; l < out.length; l++) {
    let dot = 0;
    const row = l * dim;
    for (let i = 0; i < dim; i++) dot += w[row + i] * x[from + i];
    out[l] = dot * scale + b[l];
  }
}

function softmaxInPlace(z: Float64Array): void {
  let max = -Infinity;
  for (const v of z) max = Math.max(max, v);
  let sum = 0;
  for (let i = 0; i < z.length; i++) sum += z[i] = Math.exp(z[i] - max);
  for (let i = 0; i < z.length; i++) z[i] /= sum;
}

export interface TrainHeadOptions {
  provider: string;
  model: string;
  maxChars: number;
  /** Default `any`. */
  scripts?: HeadScripts;
  /** Gradient steps over the whole set (default 100). */
  epochs?: number;
  /** L2 penalty on the weights (default 1e-4). */
  l2?: number;
  source?: string | null;
  corpusDigest?: string | null;
}

const DEFAULT_EPOCHS = 100;
const DEFAULT_L2 = 1e-4;
const MOMENTUM = 0.9;
const POWER_STEPS = 30;

/**
 * Largest eigenvalue of X'X / n by power iteration from a fixed start (deterministic). The softmax loss's
 * curvature is at most half of it, so 1 / lambda is a safe step; for vectors spread over many dimensions
 * lambda is far below 1 and the step correspondingly large (a fixed step of 1 would crawl).
 */
function largestEigenvalue(x: Float32Array, n: number, dim: number): number {
  let v = new Float64Array(dim).fill(1 / Math.sqrt(dim));
  let lambda = 1;
  for (let step = 0; step < POWER_STEPS; step++) {
    const next = new Float64Array(dim);
    for (let d = 0; d < n; d++) {
      const from = d * dim;
      let dot = 0;
      for (let i = 0; i < dim; i++) dot += x[from + i] * v[i];
      for (let i = 0; i < dim; i++) next[i] += dot * x[from + i];
    }
    let norm = 0;
    for (let i = 0; i < dim; i++) norm += next[i] * next[i];
    norm = Math.sqrt(norm);
    if (norm === 0) return 1;
    lambda = norm / n;
    for (let i = 0; i < dim; i++) next[i] /= norm;
    v = next;
  }
  return lambda;
}

/** Trains a head on one vector per example and its label; labels are sorted so the head's order is fixed. */
export function trainHead(vectors: readonly Float32Array[], labelsOf: readonly string[], opts: TrainHeadOptions): EmbeddingHead {
  if (vectors.length !== labelsOf.length) throw new EmbeddingError('invalid_option', `${vectors.length} vectors but ${labelsOf.length} labels`);
  if (vectors.length === 0) throw new EmbeddingError('invalid_option', 'training a head needs examples');
  const dim = vectors[0].length;
  const labels = [...new Set(labelsOf)].sort();
  if (labels.length < 2) throw new EmbeddingError('invalid_option', 'training a head needs at least two labels');
  const epochs = opts.epochs ?? DEFAULT_EPOCHS;
  const l2 = opts.l2 ?? DEFAULT_L2;
  const n = vectors.length;
  const k = labels.length;
  // Unit rows, packed once.
  const x = new Float32Array(n * dim);
  vectors.forEach((v, d) => {
    if (v.length !== dim) throw new EmbeddingError('embedding_dimension_mismatch', `vector ${d} has ${v.length} dimensions, the first has ${dim}`);
    const inv = inverseNorm(v);
    for (let i = 0; i < dim; i++) x[d * dim + i] = v[i] * inv;
  });
  const y = Int32Array.from(labelsOf, (l) => labels.indexOf(l));
  // The bias sees a constant feature of 1, so the step also stays within 1 for it.
  const rate = 1 / Math.max(largestEigenvalue(x, n, dim), 1 / n);
  const w = new Float64Array(k * dim);
  const b = new Float64Array(k);
  const vw = new Float64Array(k * dim);
  const vb = new Float64Array(k);
  const gw = new Float64Array(k * dim);
  const gb = new Float64Array(k);
  const lookW = new Float64Array(k * dim);
  const lookB = new Float64Array(k);
  const z = new Float64Array(k);
  for (let epoch = 0; epoch < epochs; epoch++) {
    // Nesterov: the gradient at the look-ahead point w + momentum * v.
    for (let i = 0; i < w.length; i++) lookW[i] = w[i] + MOMENTUM * vw[i];
    for (let l = 0; l < k; l++) lookB[l] = b[l] + MOMENTUM * vb[l];
    gw.fill(0);
    gb.fill(0);
    for (let d = 0; d < n; d++) {
      const from = d * dim;
      for (let l = 0; l < k; l++) {
        let dot = lookB[l];
        const row = l * dim;
        for (let i = 0; i < dim; i++) dot += lookW[row + i] * x[from + i];
        z[l] = dot;
      }
      softmaxInPlace(z);
      z[y[d]] -= 1;
      for (let l = 0; l < k; l++) {
        const g = z[l];
        gb[l] += g;
        const row = l * dim;
        for (let i = 0; i < dim; i++) gw[row + i] += g * x[from + i];
      }
    }
    for (let i = 0; i < w.length; i++) {
      vw[i] = MOMENTUM * vw[i] - rate * (gw[i] / n + l2 * lookW[i]);
      w[i] += vw[i];
    }
    for (let l = 0; l < k; l++) {
      vb[l] = MOMENTUM * vb[l] - (Math.min(rate, 1) * gb[l]) / n;
      b[l] += vb[l];
    }
  }
  const weights = Float32Array.from(w);
  const bias = Float32Array.from(b);
  let correct = 0;
  const out = new Float64Array(k);
  for (let d = 0; d < n; d++) {
    logits(weights, bias, x, d * dim, dim, 1, out);
    let arg = 0;
    for (let l = 1; l < k; l++) if (out[l] > out[arg]) arg = l;
    if (arg === y[d]) correct++;
  }
  const perLabel: Record<string, number> = {};
  for (const l of labels) perLabel[l] = 0;
  for (const l of labelsOf) perLabel[l]++;
  return new EmbeddingHead({
    provider: opts.provider,
    model: opts.model,
    dimension: dim,
    labels,
    maxChars: opts.maxChars,
    scripts: opts.scripts ?? 'any',
    weights,
    bias,
    metadata: { examples: n, perLabel, trainAccuracy: correct / n, epochs, l2, source: opts.source ?? null, corpusDigest: opts.corpusDigest ?? null },
  });
}

/**
 * TF-IDF fitted on a corpus: the hashed features seen in training get a compact row id and an IDF; each
 * document becomes a sparse, L2-normalised vector over those rows.
 */
import type { Featurizer } from './featurize.js';

/** A sparse vector over compact feature rows (ids ascending is not required). */
export interface SparseVector {
  idx: Int32Array;
  val: Float32Array;
}

export interface TfidfFit {
  /** Hashed feature index of each compact row; rows ordered by falling document frequency. */
  features: Int32Array;
  /** IDF of each compact row. */
  idf: Float32Array;
  /** IDF of a feature never seen in training (df = 0). */
  idfUnseen: number;
  /** One unit vector per document (an all-zero vector for a text with no features). */
  vectors: SparseVector[];
}

/** Smoothed IDF (as if one extra document held every feature: never zero, never infinite), raised to `power`. */
export function smoothIdf(docs: number, df: number, power: number): number {
  return (Math.log((1 + docs) / (1 + df)) + 1) ** power;
}

export function fitTfidf(texts: readonly string[], featurizer: Featurizer, onDoc?: (done: number) => void): TfidfFit {
  const { dim, idfPower: power, maxFeatures } = featurizer.settings;
  const df = new Int32Array(dim);
  // Pass 1: raw (feature, count) lists per document, and document frequencies.
  const rawIdx: Int32Array[] = new Array(texts.length);
  const rawTf: Int32Array[] = new Array(texts.length);
  for (let d = 0; d < texts.length; d++) {
    const n = featurizer.scan(texts[d]);
    const idx = featurizer.touched.slice(0, n);
    const tf = new Int32Array(n);
    for (let t = 0; t < n; t++) {
      tf[t] = featurizer.count(idx[t]);
      df[idx[t]]++;
    }
    featurizer.clear(n);
    rawIdx[d] = idx;
    rawTf[d] = tf;
    if (onDoc && (d + 1) % 256 === 0) onDoc(d + 1);
  }
  onDoc?.(texts.length);

  // Rows in order of falling document frequency (ties by feature index): the features most prompts share
  // sit together at the start of every per-row array, so scoring and clustering mostly hit the cache.
  // Beyond maxFeatures the rarest are dropped: they are then treated as unseen (their IDF was close to
  // the unseen IDF anyway), counting in a vector's norm but adding nothing to any centroid.
  const seen: number[] = [];
  for (let f = 0; f < dim; f++) if (df[f] > 0) seen.push(f);
  seen.sort((a, b) => df[b] - df[a] || a - b);
  if (seen.length > maxFeatures) seen.length = maxFeatures;
  const idfUnseen = smoothIdf(texts.length, 0, power);
  const rowOf = new Int32Array(dim).fill(-1);
  const features = Int32Array.from(seen);
  const idf = new Float32Array(seen.length);
  seen.forEach((f, row) => {
    rowOf[f] = row;
    idf[row] = smoothIdf(texts.length, df[f], power);
  });

  // Pass 2: weights, L2 norm, compact ids.
  const vectors: SparseVector[] = new Array(texts.length);
  for (let d = 0; d < texts.length; d++) {
    const idx = rawIdx[d];
    const tf = rawTf[d];
    const weight = new Float64Array(idx.length);
    let kept = 0;
    let norm2 = 0;
    for (let t = 0; t < idx.length; t++) {
      const row = rowOf[idx[t]];
      const w = featurizer.tfWeight(tf[t]) * (row >= 0 ? idf[row] : idfUnseen);
      norm2 += w * w;
      if (row < 0) continue;
      // Compact in place: kept <= t, so entries not yet read are never overwritten.
      idx[kept] = row;
      weight[kept] = w;
      kept++;
    }
    const inv = norm2 > 0 ? 1 / Math.sqrt(norm2) : 0;
    const val = new Float32Array(kept);
    for (let t = 0; t < kept; t++) val[t] = weight[t] * inv;
    vectors[d] = { idx: idx.slice(0, kept), val };
  }
  return { features, idf, idfUnseen, vectors };
}

/**
 * Spherical k-means (cosine similarity) over sparse unit vectors: k-means++ seeding from a seeded generator,
 * Lloyd iterations until (almost) no assignment changes, empty-cluster repair, several restarts keeping the
 * best objective. Centroids are dense and feature-major (row * k + cluster), so scoring a sparse vector is
 * one tight loop per non-zero feature.
 */
import { ClassifierError } from './errors.js';
import { createRandom } from './hash.js';
import type { SparseVector } from './tfidf.js';

export interface KMeansOptions {
  k: number;
  seed: number;
  /** Independent runs from different seedings; the best objective wins. */
  restarts: number;
  maxIterations: number;
  /** Converged once at most this share of the vectors change cluster in an iteration (0: none may change). */
  tolerance?: number;
  /** After each iteration: how many vectors changed cluster in it. */
  onIteration?: (restart: number, iteration: number, changed: number) => void;
}

export interface KMeansResult {
  /** Unit centroids, feature-major: rows * k. */
  centroids: Float32Array;
  assignment: Int32Array;
  sizes: Int32Array;
  /** Mean cosine similarity of each vector to its centroid (higher is better). */
  objective: number;
  iterations: number;
  /** Clusters that went empty and were given the worst-served vector. */
  repairs: number;
}

export const KMEANS_DEFAULTS = { seed: 42, restarts: 3, maxIterations: 50, tolerance: 0.005 } as const;

export function sphericalKMeans(vectors: readonly SparseVector[], rows: number, options: KMeansOptions): KMeansResult {
  const { k, restarts, maxIterations } = options;
  const tolerance = options.tolerance ?? KMEANS_DEFAULTS.tolerance;
  if (!Number.isInteger(k) || k < 1) throw new ClassifierError('invalid_option', `k must be a positive integer, got ${k}`);
  if (k > vectors.length) throw new ClassifierError('invalid_option', `k (${k}) is larger than the corpus (${vectors.length} examples)`);
  if (!Number.isInteger(restarts) || restarts < 1) throw new ClassifierError('invalid_option', `restarts must be a positive integer, got ${restarts}`);
  const random = createRandom(options.seed);
  const state = new KMeansState(vectors, rows, k);
  let best: KMeansResult | undefined;
  for (let r = 0; r < restarts; r++) {
    const result = state.run(random, maxIterations, tolerance, (it, changed) => options.onIteration?.(r, it, changed));
    if (!best || result.objective > best.objective) best = result;
  }
  return best!;
}

/**
 * Scratch buffers shared by the restarts of one clustering. Rows are padded to a multiple of four clusters
 * (zero columns) so the scoring loop runs four at a time.
 */
class KMeansState {
  private readonly stride: number;
  private readonly centroids: Float32Array;
  private readonly sums: Float64Array;
  private readonly sims: Float64Array;
  private readonly acc: Float64Array;

  constructor(
    private readonly vectors: readonly SparseVector[],
    private readonly rows: number,
    private readonly k: number,
  ) {
    this.stride = (k + 3) & ~3;
    // Float32: half the memory traffic of the row lookups that dominate assignment.
    this.centroids = new Float32Array(rows * this.stride);
    this.sums = new Float64Array(rows * this.stride);
    this.sims = new Float64Array(vectors.length);
    this.acc = new Float64Array(this.stride);
  }

  run(random: () => number, maxIterations: number, tolerance: number, onIteration: (iteration: number, changed: number) => void): KMeansResult {
    const n = this.vectors.length;
    const assignment = new Int32Array(n).fill(-1);
    const sizes = new Int32Array(this.k);
    this.seed(random);
    let iterations = 0;
    let repairs = 0;
    for (let it = 1; it <= maxIterations; it++) {
      iterations = it;
      const changed = this.assign(assignment, sizes);
      const repaired = this.repair(assignment, sizes);
      repairs += repaired;
      onIteration(it, changed);
      if (changed === 0 && repaired === 0) break;
      this.update();
      // The long tail of iterations moving a handful of vectors changes the objective by next to nothing.
      if (repaired === 0 && it > 1 && changed <= tolerance * n) break;
    }
    const objective = this.objective(assignment);
    const { k, stride } = this;
    const centroids = new Float32Array(this.rows * k);
    for (let row = 0; row < this.rows; row++) for (let c = 0; c < k; c++) centroids[row * k + c] = this.centroids[row * stride + c];
    return { centroids, assignment, sizes, objective, iterations, repairs };
  }

  /** k-means++: the first seed uniformly, each next one with probability proportional to 1 - best cosine. */
  private seed(random: () => number): void {
    const { vectors, k, stride } = this;
    const n = vectors.length;
    const best = this.sims.fill(-Infinity);
    // The current seed as a dense vector: each similarity is then one pass over a sparse vector.
    const dense = new Float64Array(this.rows);
    this.centroids.fill(0);
    const chosen = new Uint8Array(n);
    let pick = Math.floor(random() * n);
    for (let c = 0; c < k; c++) {
      chosen[pick] = 1;
      const seed = vectors[pick];
      for (let t = 0; t < seed.idx.length; t++) {
        dense[seed.idx[t]] = seed.val[t];
        this.centroids[seed.idx[t] * stride + c] = seed.val[t];
      }
      for (let d = 0; d < n; d++) {
        const { idx, val } = vectors[d];
        let sim = 0;
        for (let t = 0; t < idx.length; t++) sim += val[t] * dense[idx[t]];
        if (sim > best[d]) best[d] = sim;
      }
      for (let t = 0; t < seed.idx.length; t++) dense[seed.idx[t]] = 0;
      if (c === k - 1) break;
      let total = 0;
      for (let d = 0; d < n; d++) if (!chosen[d]) total += Math.max(0, 1 - best[d]);
      pick = -1;
      if (total > 0) {
        let target = random() * total;
        for (let d = 0; d < n; d++) {
          if (chosen[d]) continue;
          target -= Math.max(0, 1 - best[d]);
          if (target < 0) {
            pick = d;
            break;
          }
        }
      }
      // Every remaining vector duplicates a seed (or rounding ran past the end): take one at random.
      if (pick < 0) {
        const rest = [];
        for (let d = 0; d < n; d++) if (!chosen[d]) rest.push(d);
        pick = rest[Math.floor(random() * rest.length)];
      }
    }
  }

  private dot(v: SparseVector, c: number): number {
    const { centroids, stride } = this;
    let s = 0;
    for (let t = 0; t < v.idx.length; t++) s += v.val[t] * centroids[v.idx[t] * stride + c];
    return s;
  }

  /**
   * Nearest centroid for every vector (ties to the lower id), adding each vector into its cluster's sum while
   * its rows are still in cache; returns how many assignments changed.
   */
  private assign(assignment: Int32Array, sizes: Int32Array): number {
    const { vectors, centroids, sums, k, stride, acc, sims } = this;
    sizes.fill(0);
    sums.fill(0);
    let changed = 0;
    for (let d = 0; d < vectors.length; d++) {
      const { idx, val } = vectors[d];
      acc.fill(0);
      for (let t = 0; t < idx.length; t++) {
        const w = val[t];
        const off = idx[t] * stride;
        for (let c = 0; c < stride; c += 4) {
          acc[c] += w * centroids[off + c];
          acc[c + 1] += w * centroids[off + c + 1];
          acc[c + 2] += w * centroids[off + c + 2];
          acc[c + 3] += w * centroids[off + c + 3];
        }
      }
      let best = 0;
      for (let c = 1; c < k; c++) if (acc[c] > acc[best]) best = c;
      sims[d] = acc[best];
      if (assignment[d] !== best) changed++;
      assignment[d] = best;
      sizes[best]++;
      for (let t = 0; t < idx.length; t++) sums[idx[t] * stride + best] += val[t];
    }
    return changed;
  }

  /** Gives each empty cluster the vector least similar to its own centroid, taken from a cluster of two or more. */
  private repair(assignment: Int32Array, sizes: Int32Array): number {
    let repaired = 0;
    for (let c = 0; c < this.k; c++) {
      if (sizes[c] > 0) continue;
      let worst = -1;
      for (let d = 0; d < assignment.length; d++) {
        if (sizes[assignment[d]] > 1 && (worst < 0 || this.sims[d] < this.sims[worst])) worst = d;
      }
      const { idx, val } = this.vectors[worst];
      for (let t = 0; t < idx.length; t++) {
        this.sums[idx[t] * this.stride + assignment[worst]] -= val[t];
        this.sums[idx[t] * this.stride + c] += val[t];
      }
      sizes[assignment[worst]]--;
      assignment[worst] = c;
      sizes[c] = 1;
      this.sims[worst] = Infinity;
      repaired++;
    }
    return repaired;
  }

  /** Each centroid becomes the normalised sum of its members (summed by `assign` and `repair`). */
  private update(): void {
    const { sums, centroids, stride, rows } = this;
    const norm2 = new Float64Array(stride);
    for (let row = 0; row < rows; row++) {
      const off = row * stride;
      for (let c = 0; c < stride; c++) norm2[c] += sums[off + c] * sums[off + c];
    }
    const inv = norm2.map((x) => (x > 0 ? 1 / Math.sqrt(x) : 0));
    for (let row = 0; row < rows; row++) {
      const off = row * stride;
      for (let c = 0; c < stride; c++) centroids[off + c] = sums[off + c] * inv[c];
    }
  }

  private objective(assignment: Int32Array): number {
    let total = 0;
    for (let d = 0; d < this.vectors.length; d++) total += this.dot(this.vectors[d], assignment[d]);
    return this.vectors.length > 0 ? total / this.vectors.length : 0;
  }
}

/** Index of the most similar centroid for each vector (ties to the lower id). */
export function nearestCentroids(vectors: readonly SparseVector[], centroids: Float32Array, k: number): Int32Array {
  const out = new Int32Array(vectors.length);
  const acc = new Float64Array(k);
  for (let d = 0; d < vectors.length; d++) {
    const { idx, val } = vectors[d];
    acc.fill(0);
    for (let t = 0; t < idx.length; t++) {
      const off = idx[t] * k;
      for (let c = 0; c < k; c++) acc[c] += val[t] * centroids[off + c];
    }
    let best = 0;
    for (let c = 1; c < k; c++) if (acc[c] > acc[best]) best = c;
    out[d] = best;
  }
  return out;
}

/**
 * Near-duplicate prompts: the Jaccard similarity of their sets of character 5-gram shingles (after NFKC,
 * lower-casing and collapsing whitespace; any script), found with MinHash and locality-sensitive hashing
 * (bands of the signature as bucket keys), then confirmed exactly. Character shingles forgive a changed word
 * or two in a short prompt (word shingles lose three per edit), yet two prompts that share only a frame
 * ("Write a haiku about the sea" / "... the moon") stay below the default threshold. Tens of thousands of
 * prompts take a few seconds.
 */
import { ClassifierError } from './errors.js';
import { FNV_OFFSET, FNV_PRIME } from './hash.js';

export interface NearDuplicateOptions {
  /** Jaccard similarity of the shingle sets at or above which two prompts are near-duplicates. */
  threshold?: number;
}

/** Two prompts (by index) and the Jaccard similarity of their shingles. */
export interface NearDuplicate {
  a: number;
  b: number;
  similarity: number;
}

/**
 * threshold 0.8: a copy with a word or two changed or added scores 0.85-0.98; prompts sharing only a frame
 * ("Write a haiku about the sea" / "... the moon") about 0.74.
 */
export const NEAR_DUPLICATE_DEFAULTS = { threshold: 0.8, shingle: 5, bands: 16, rows: 4 } as const;
const HASHES = NEAR_DUPLICATE_DEFAULTS.bands * NEAR_DUPLICATE_DEFAULTS.rows;

function hashRange(text: string, from: number, to: number): number {
  let h = FNV_OFFSET;
  for (let i = from; i < to; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
  return h;
}

/** murmur3's finaliser: a cheap, well-mixing 32-bit permutation. */
function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The distinct shingle hashes of a text, sorted (a text shorter than a shingle is one shingle). */
export function shingles(text: string): Uint32Array {
  const norm = text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
  const n = NEAR_DUPLICATE_DEFAULTS.shingle;
  const out = new Set<number>();
  if (norm.length > 0 && norm.length < n) out.add(mix(hashRange(norm, 0, norm.length)));
  for (let i = 0; i + n <= norm.length; i++) out.add(mix(hashRange(norm, i, i + n)));
  return Uint32Array.from(out).sort();
}

/** Exact Jaccard similarity of two sorted sets. */
export function jaccard(a: Uint32Array, b: Uint32Array): number {
  if (a.length === 0 && b.length === 0) return 1;
  let i = 0;
  let j = 0;
  let common = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      common++;
      i++;
      j++;
    } else if (a[i] < b[j]) i++;
    else j++;
  }
  return common / (a.length + b.length - common);
}

const SEEDS = Uint32Array.from({ length: HASHES }, (_, i) => mix(0x9e3779b9 * (i + 1)));

function signature(set: Uint32Array): Uint32Array {
  const sig = new Uint32Array(HASHES).fill(0xffffffff);
  for (const x of set) {
    for (let i = 0; i < HASHES; i++) {
      const h = mix(x ^ SEEDS[i]);
      if (h < sig[i]) sig[i] = h;
    }
  }
  return sig;
}

function bandKeys(sig: Uint32Array): string[] {
  const { bands, rows } = NEAR_DUPLICATE_DEFAULTS;
  return Array.from({ length: bands }, (_, b) => `${b}:${Array.from(sig.subarray(b * rows, (b + 1) * rows)).join(',')}`);
}

function checkThreshold(threshold: number): number {
  if (!(threshold > 0 && threshold <= 1)) throw new ClassifierError('invalid_option', `threshold must be in (0, 1], got ${threshold}`);
  return threshold;
}

/** An index of prompts to probe for near-duplicates. */
export class NearDuplicateIndex {
  private readonly sets: Uint32Array[] = [];
  private readonly buckets = new Map<string, number[]>();
  private readonly threshold: number;

  constructor(options: NearDuplicateOptions = {}) {
    this.threshold = checkThreshold(options.threshold ?? NEAR_DUPLICATE_DEFAULTS.threshold);
  }

  get size(): number {
    return this.sets.length;
  }

  /** Adds a text; returns its id (ids count from 0 in the order added) and the indexed texts it nearly duplicates. */
  add(text: string): { id: number; matches: Array<{ id: number; similarity: number }> } {
    const set = shingles(text);
    const keys = bandKeys(signature(set));
    const matches = this.probe(set, keys);
    const id = this.sets.length;
    this.sets.push(set);
    for (const key of keys) {
      const list = this.buckets.get(key);
      if (list) list.push(id);
      else this.buckets.set(key, [id]);
    }
    return { id, matches };
  }

  /** The indexed texts at or above the threshold with `text`, most similar first. */
  query(text: string): Array<{ id: number; similarity: number }> {
    const set = shingles(text);
    return this.probe(set, bandKeys(signature(set)));
  }

  private probe(set: Uint32Array, keys: string[]): Array<{ id: number; similarity: number }> {
    const seen = new Set<number>();
    const out: Array<{ id: number; similarity: number }> = [];
    for (const key of keys) {
      for (const id of this.buckets.get(key) ?? []) {
        if (seen.has(id)) continue;
        seen.add(id);
        const similarity = jaccard(set, this.sets[id]);
        if (similarity >= this.threshold) out.push({ id, similarity });
      }
    }
    return out.sort((x, y) => y.similarity - x.similarity || x.id - y.id);
  }
}

/** Every pair of near-duplicates within `texts` (a < b), in order of b then a. */
export function findNearDuplicates(texts: readonly string[], options: NearDuplicateOptions = {}): NearDuplicate[] {
  const index = new NearDuplicateIndex(options);
  const out: NearDuplicate[] = [];
  for (let b = 0; b < texts.length; b++) {
    const { matches } = index.add(texts[b]);
    for (const { id, similarity } of matches.sort((x, y) => x.id - y.id)) out.push({ a: id, b, similarity });
  }
  return out;
}

/** Embeds many texts (a training corpus) in batches, several batches in flight, results in input order. */
import type { EmbeddingProvider } from './types.js';

export interface EmbedTextsOptions {
  /** Texts per provider call (default 32). */
  batchSize?: number;
  /** Batches in flight at once (default 1; the in-process provider's worker count is a good choice). */
  concurrency?: number;
  /** Each text is cut to this many characters first. */
  maxChars: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export async function embedTexts(provider: EmbeddingProvider, texts: readonly string[], opts: EmbedTextsOptions): Promise<Float32Array[]> {
  const batchSize = opts.batchSize ?? 32;
  const out = new Array<Float32Array>(texts.length);
  let next = 0;
  let done = 0;
  const run = async (): Promise<void> => {
    while (next < texts.length) {
      const from = next;
      next = Math.min(texts.length, next + batchSize);
      const batch = texts.slice(from, next).map((t) => t.slice(0, opts.maxChars));
      const vectors = await provider.embed(batch, opts.signal);
      vectors.forEach((v, i) => (out[from + i] = v));
      done += batch.length;
      opts.onProgress?.(done, texts.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 1) }, run));
  return out;
}

/** Trains a head from labelled prompts against a provider: embed every prompt (cut to maxChars), then fit. */
import type { LabelledText } from '../train.js';
import { embedTexts } from './embed-texts.js';
import { EmbeddingError } from './errors.js';
import { readsScript, trainHead, type EmbeddingHead, type HeadScripts } from './head.js';
import type { EmbeddingProvider } from './types.js';

/** Prompts are embedded up to this many characters (USE lite's cost grows with length; E5/BGE stop at 512 tokens). */
export const DEFAULT_MAX_CHARS = 2000;

export interface BuildHeadOptions {
  /** The model name recorded in the head (the provider's own for in-process). */
  model: string;
  maxChars?: number;
  /** `latin`: an English encoder; it is trained on (and later asked about) only prompts mostly in Latin script. */
  scripts?: HeadScripts;
  batchSize?: number;
  concurrency?: number;
  epochs?: number;
  l2?: number;
  source?: string | null;
  corpusDigest?: string | null;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export async function buildHead(provider: EmbeddingProvider, examples: readonly LabelledText[], opts: BuildHeadOptions): Promise<EmbeddingHead> {
  let labelled = examples.filter((e): e is LabelledText & { label: string } => e.label !== undefined);
  if (labelled.length !== examples.length) throw new EmbeddingError('invalid_option', `${examples.length - labelled.length} training prompts have no label`);
  const maxChars = opts.maxChars ?? DEFAULT_MAX_CHARS;
  const scripts = opts.scripts ?? 'any';
  // The same test the cascade applies before it escalates.
  if (scripts !== 'any') labelled = labelled.filter((e) => readsScript(e.text, scripts, maxChars));
  const vectors = await embedTexts(
    provider,
    labelled.map((e) => e.text),
    { maxChars, batchSize: opts.batchSize, concurrency: opts.concurrency, onProgress: opts.onProgress, signal: opts.signal },
  );
  return trainHead(vectors, labelled.map((e) => e.label), { provider: provider.name, model: opts.model, maxChars, scripts, epochs: opts.epochs, l2: opts.l2, source: opts.source, corpusDigest: opts.corpusDigest });
}

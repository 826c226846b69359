/**
 * Builds the embedding tier from its configuration (`classifier.embedding` in the gateway's YAML, keys as
 * written there): the provider, the head (the shipped one for the in-process provider, a file for a
 * remote one) and the cascade around the lexical classifier.
 */
import { fileURLToPath } from 'node:url';
import type { PromptClassifier } from '../types.js';
import { EmbeddingCascade } from './cascade.js';
import { EmbeddingError } from './errors.js';
import { loadHead } from './head-artifact.js';
import { RemoteEmbeddingProvider } from './remote-provider.js';
import type { EmbeddingProvider } from './types.js';
import { UseLiteProvider } from './use-lite-provider.js';

export interface EmbeddingTierConfig {
  /** `in-process`: Universal Sentence Encoder lite in worker threads; `remote`: an OpenAI-compatible /v1/embeddings. */
  provider: 'in-process' | 'remote';
  /** Lexical confidence below which a prompt is embedded. */
  threshold?: number;
  /** Longest wait for an embedding before the lexical decision stands. */
  timeout_ms?: number;
  /** Escalations in flight at once. */
  max_pending?: number;
  /** Embedding decisions kept, by prompt hash. */
  cache_size?: number;
  /** The head's share in the pooled probabilities. */
  weight?: number;
  /** Head artifact (expert-router train-head); default for in-process: the shipped one. */
  head?: string;
  /** remote: the server (http(s)://host:port[/prefix]), its model, key and vector length. */
  endpoint?: string;
  model?: string;
  api_key?: string;
  dimension?: number;
  /** in-process: worker threads, and batches that may wait for one. */
  workers?: number;
  max_queue?: number;
}

/**
 * Tuned on the dev set with benchmarks/embedding-tier.ts (docs/embedding-tier.md): escalating below 0.7
 * lexical confidence sends about 7% of the dev set's English prompts to the tier, where the lexical tier
 * is right about half the time; a head share of 0.7 lets a sure head overrule an unsure lexical choice
 * but not a fairly sure one.
 */
export const EMBEDDING_DEFAULTS = {
  threshold: 0.7,
  timeout_ms: 200,
  max_pending: 32,
  cache_size: 10_000,
  weight: 0.7,
  workers: 1,
  max_queue: 64,
} as const;

/** The head shipped for the in-process provider; the path is found from this file (src/ and dist/ alike). */
export const USE_LITE_HEAD_PATH = fileURLToPath(new URL('../../../data/models/embedding-use-lite.json', import.meta.url));

export function createProvider(config: EmbeddingTierConfig): EmbeddingProvider {
  if (config.provider === 'in-process') return new UseLiteProvider({ workers: config.workers ?? EMBEDDING_DEFAULTS.workers, maxQueue: config.max_queue ?? EMBEDDING_DEFAULTS.max_queue });
  if (config.provider !== 'remote') throw new EmbeddingError('invalid_option', `classifier.embedding.provider: expected 'in-process' or 'remote', got '${String(config.provider)}'`);
  if (!config.endpoint) throw new EmbeddingError('invalid_option', 'classifier.embedding.endpoint is required for the remote provider');
  if (!config.model) throw new EmbeddingError('invalid_option', 'classifier.embedding.model is required for the remote provider');
  return new RemoteEmbeddingProvider({ endpoint: config.endpoint, model: config.model, apiKey: config.api_key, dimension: config.dimension });
}

/** The cascade for `classifier`; the provider starts here (in-process: its workers load the model in the background). */
export function createEmbeddingCascade(config: EmbeddingTierConfig, classifier: PromptClassifier): EmbeddingCascade {
  if (config.provider === 'remote' && !config.head) {
    throw new EmbeddingError('invalid_option', 'classifier.embedding.head is required for the remote provider: train one against the endpoint with expert-router train-head');
  }
  const head = loadHead(config.head ?? USE_LITE_HEAD_PATH);
  const provider = createProvider(config);
  try {
    return new EmbeddingCascade({
      provider,
      head,
      clusterLabels: classifier.clusterLabels,
      threshold: config.threshold ?? EMBEDDING_DEFAULTS.threshold,
      timeoutMs: config.timeout_ms ?? EMBEDDING_DEFAULTS.timeout_ms,
      maxPending: config.max_pending ?? EMBEDDING_DEFAULTS.max_pending,
      cacheSize: config.cache_size ?? EMBEDDING_DEFAULTS.cache_size,
      weight: config.weight ?? EMBEDDING_DEFAULTS.weight,
    });
  } catch (err) {
    void provider.close();
    throw err;
  }
}

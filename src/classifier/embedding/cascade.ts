/**
 * The cascade: the lexical prediction stands when its confidence reaches the threshold; below it the
 * prompt is embedded and the head's probabilities are pooled with the lexical ones (combine.ts). The
 * embedding wait is bounded by a timeout and the number of escalations in flight by `maxPending`; on
 * timeout, overload, error or abort the lexical decision stands and the decision says why. Embedding
 * decisions are cached by the prompt's SHA-256 in a bounded LRU (failures are not, so a prompt whose
 * embedding timed out is tried again next time).
 */
import { createHash } from 'node:crypto';
import type { Prediction } from '../types.js';
import { LabelJoin } from './combine.js';
import { EmbeddingError } from './errors.js';
import type { EmbeddingHead } from './head.js';
import { LruCache } from './lru-cache.js';
import type { CascadeDecision, DecisionReason, EmbeddingProvider } from './types.js';

export interface CascadeOptions {
  provider: EmbeddingProvider;
  head: EmbeddingHead;
  /** Labels of the lexical classifier's clusters, indexed by cluster id. */
  clusterLabels: readonly string[];
  /** Prompts whose lexical confidence is below this are escalated (0..1). */
  threshold: number;
  /** Longest wait for an embedding, in milliseconds. */
  timeoutMs: number;
  /** Escalations in flight at once; beyond it the lexical decision stands (reason `overloaded`). */
  maxPending: number;
  /** Embedding decisions kept (0: no cache). */
  cacheSize: number;
  /** The head's share w in the pooled probabilities (0..1). */
  weight: number;
}

/** What the cascade does with a lexical prediction: keep it (`confident`, `unread`) or `escalate`. */
export type Triage = 'confident' | 'unread' | 'escalate';

export class EmbeddingCascade {
  readonly threshold: number;
  private readonly join: LabelJoin;
  private readonly cache: LruCache<string, Prediction>;
  private inFlight = 0;

  constructor(private readonly opts: CascadeOptions) {
    const { provider, head, threshold, timeoutMs, maxPending, cacheSize, weight } = opts;
    const check = (ok: boolean, message: string): void => {
      if (!ok) throw new EmbeddingError('invalid_option', message);
    };
    check(threshold >= 0 && threshold <= 1, `threshold must be between 0 and 1, got ${threshold}`);
    check(Number.isFinite(timeoutMs) && timeoutMs > 0, `timeout_ms must be a positive number, got ${timeoutMs}`);
    check(Number.isInteger(maxPending) && maxPending >= 1, `max_pending must be a positive integer, got ${maxPending}`);
    check(Number.isInteger(cacheSize) && cacheSize >= 0, `cache_size must be a non-negative integer, got ${cacheSize}`);
    check(weight >= 0 && weight <= 1, `weight must be between 0 and 1, got ${weight}`);
    if (head.provider !== provider.name) {
      throw new EmbeddingError('head_mismatch', `the head was trained on '${head.provider}' vectors, the provider is '${provider.name}': train a head against it (expert-router train-head)`);
    }
    if (provider.dimension !== undefined && provider.dimension !== head.dimension) {
      throw new EmbeddingError('head_mismatch', `the head expects ${head.dimension}-dimensional vectors, the provider gives ${provider.dimension}`);
    }
    const unknown = LabelJoin.unknownLabels(opts.clusterLabels, head.labels);
    if (unknown.length > 0) throw new EmbeddingError('head_mismatch', `the head's labels ${unknown.join(', ')} are not labels of the classifier (${[...new Set(opts.clusterLabels)].join(', ')})`);
    this.threshold = threshold;
    this.join = new LabelJoin(opts.clusterLabels, head.labels);
    this.cache = new LruCache(cacheSize);
  }

  /**
   * Whether a prompt goes to the embedding tier: its lexical confidence is below the threshold and the
   * head's encoder reads its script. Synchronous, and only a comparison for a confident prediction (the
   * gateway's hot path asks for every classified prompt).
   */
  triage(lexical: Prediction, text: string): Triage {
    if (lexical.confidence >= this.threshold) return 'confident';
    return this.opts.head.reads(text) ? 'escalate' : 'unread';
  }

  escalates(lexical: Prediction, text: string): boolean {
    return this.triage(lexical, text) === 'escalate';
  }

  /** Escalations waiting for an embedding now. */
  get pending(): number {
    return this.inFlight;
  }

  /** The decision for `text`, whose lexical prediction is `lexical`; never rejects. */
  async decide(text: string, lexical: Prediction, signal?: AbortSignal): Promise<CascadeDecision> {
    const triage = this.triage(lexical, text);
    if (triage !== 'escalate') return this.lexical(lexical, triage);
    const key = createHash('sha256').update(text).digest('base64');
    const hit = this.cache.get(key);
    if (hit) return { prediction: hit, tier: 'embedding', reason: 'cached', lexical, embeddingMs: 0 };
    if (this.inFlight >= this.opts.maxPending) return this.lexical(lexical, 'overloaded', 0, 'embedding_overloaded');
    this.inFlight++;
    const t0 = performance.now();
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new EmbeddingError('embedding_timeout', `no embedding within ${this.opts.timeoutMs} ms`)), this.opts.timeoutMs);
    const both = signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal;
    try {
      const [vector] = await this.opts.provider.embed([text.slice(0, this.opts.head.maxChars)], both);
      const prediction = Object.freeze(this.join.combine(lexical, this.opts.head.probabilities(vector), this.opts.weight));
      this.cache.set(key, prediction);
      return { prediction, tier: 'embedding', reason: 'embedded', lexical, embeddingMs: performance.now() - t0 };
    } catch (err) {
      const ms = performance.now() - t0;
      if (signal?.aborted) return this.lexical(lexical, 'aborted', ms, 'aborted');
      const code = err instanceof EmbeddingError ? err.code : 'internal';
      const reason: DecisionReason = code === 'embedding_timeout' ? 'timeout' : code === 'embedding_overloaded' ? 'overloaded' : 'error';
      return this.lexical(lexical, reason, ms, code);
    } finally {
      clearTimeout(timer);
      this.inFlight--;
    }
  }

  private lexical(lexical: Prediction, reason: DecisionReason, embeddingMs = 0, errorCode?: string): CascadeDecision {
    const decision: CascadeDecision = { prediction: lexical, tier: 'lexical', reason, lexical, embeddingMs };
    if (errorCode !== undefined) decision.errorCode = errorCode;
    return decision;
  }

  /** Stops the provider. */
  close(): Promise<void> {
    return this.opts.provider.close();
  }
}

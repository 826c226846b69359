/** The embedding tier's contracts: a provider of sentence vectors, and the cascade's decision. */
import type { Prediction } from '../types.js';

/** Turns texts into vectors: in-process (a worker pool) or remote (an OpenAI-compatible /v1/embeddings). */
export interface EmbeddingProvider {
  /** Identifies the vector space, e.g. `use-lite` or `remote:<model>`; a head is valid only for its provider's space. */
  readonly name: string;
  /** Length of every vector; a remote provider learns it from its first answer unless configured. */
  readonly dimension: number | undefined;
  /** One vector per text, in order; rejects with an EmbeddingError (never upstream text) or the signal's reason. */
  embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]>;
  /** Stops workers or closes connections; pending calls reject. */
  close(): Promise<void>;
}

/** Which tier made the decision. */
export type DecisionTier = 'lexical' | 'embedding';

/**
 * Why the decision stands as it does: `confident` (lexical confidence at or above the threshold),
 * `unread` (below it, but the head's encoder does not read the prompt's script, e.g. Chinese for USE lite),
 * `embedded` (the embedding tier decided), `cached` (an earlier embedding decision for the same prompt),
 * or the failure that left the lexical decision standing: `timeout`, `overloaded`, `error`, `aborted`.
 */
export type DecisionReason = 'confident' | 'unread' | 'embedded' | 'cached' | 'timeout' | 'overloaded' | 'error' | 'aborted';

export interface CascadeDecision {
  /** The decision: the lexical prediction, or one with the embedding tier's cluster, label and combined confidence. */
  prediction: Prediction;
  tier: DecisionTier;
  reason: DecisionReason;
  /** The lexical tier's own prediction (the same object as `prediction` when the lexical tier decided). */
  lexical: Prediction;
  /** Time spent waiting for the embedding (0 when none was asked for, or for a cache hit). */
  embeddingMs: number;
  /** Stable code of the failure when `reason` is timeout, overloaded, error or aborted. */
  errorCode?: string;
}

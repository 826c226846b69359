/** Embedding tier failures, each with a stable code. Messages name the endpoint or file, never upstream text. */
import { ExpertRouterError } from '../../common/errors.js';

export type EmbeddingErrorCode =
  /** The provider did not answer within the timeout. */
  | 'embedding_timeout'
  /** The provider's bounded queue (or the cascade's cap on pending escalations) is full. */
  | 'embedding_overloaded'
  /** The remote endpoint could not be reached or closed the connection. */
  | 'embedding_unreachable'
  /** The remote endpoint answered with a non-2xx status. */
  | 'embedding_upstream_status'
  /** The answer was not an OpenAI embeddings body (bad JSON, wrong count, non-numeric values, too large). */
  | 'embedding_malformed'
  /** A vector's length differs from the provider's (or the head's) dimension. */
  | 'embedding_dimension_mismatch'
  /** The in-process model failed to load or to embed, or its worker exited. */
  | 'embedding_worker_failed'
  /** The provider was closed. */
  | 'embedding_closed'
  /** A bad option or configuration value (the message names it). */
  | 'invalid_option'
  /** A head artifact that cannot be read or used. */
  | 'head_unreadable'
  | 'head_corrupt'
  | 'head_mismatch';

export class EmbeddingError extends ExpertRouterError<EmbeddingErrorCode> {}

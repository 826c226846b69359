/** Defaults of the gateway configuration, in one place. */
export const CONFIG_DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  /** Request bodies above this are refused with 413. */
  bodyLimitBytes: 1024 * 1024,
  /** How long an expert may take to send its first token (for non-streaming requests: its response). */
  firstTokenTimeoutMs: 60_000,
  /** Requests waiting for a slot of an expert at its max_concurrency, beyond which 429 is answered. */
  maxQueue: 1024,
  /** Triton needs max_tokens; used when the request names none. */
  tritonMaxTokens: 256,
  healthIntervalMs: 2_000,
  healthTimeoutMs: 1_000,
  /** Idle keep-alive connections to a replica are closed after this long. */
  keepAliveMs: 60_000,
  /** `model` values that ask for classification. */
  aliases: ['auto'],
  /**
   * A classification less sure than this (the classifier's calibrated probability of its label)
   * goes to the default expert. 0 turns the check off.
   */
  confidenceThreshold: 0.5,
  /** Conversations named by x-session-id are remembered this long after their last request... */
  sessionTtlS: 3_600,
  /** ...and at most this many at once (the least recently used is forgotten first). */
  sessionMaxEntries: 100_000,
  /** On SIGTERM, in-flight requests get this long to finish before they are ended with an error. */
  drainS: 30,
} as const;

/**
 * Parts of a chat request that may be classified (a completion request's prompt is always
 * classified whole). `first_user` keeps a conversation with the expert its first question chose.
 */
export const CLASSIFY_FIELDS = ['system', 'first_user', 'last_user', 'all_user', 'assistant'] as const;
export const DEFAULT_CLASSIFY_FIELDS: readonly (typeof CLASSIFY_FIELDS)[number][] = ['system', 'first_user'];

/** What a request whose `model` names no expert and no alias gets. */
export const UNKNOWN_MODEL_POLICIES = ['reject', 'classify'] as const;

/** Defaults of the upstream transport and the gateway's failure handling (docs/transport.md). */
export const TRANSPORT_DEFAULTS = {
  /** A stream with no byte from its expert for this long is ended with an error event (504 before the first byte). */
  streamIdleTimeoutMs: 30_000,
  /** Requests wait for an admission slot at most this long (then 503 queue_timeout). */
  queueWaitMs: 30_000,
  /** Open client connections beyond this are refused with a 503 at once. */
  clientConnections: 10_000,
  /** Idle keep-alive client connections are closed after this long. */
  clientKeepAliveMs: 5_000,
  /** A client that reads nothing of its answer for this long is cut off (the upstream closed, the slot freed). */
  sendTimeoutMs: 30_000,
  breakerFailures: 5,
  breakerOpenMs: 10_000,
  outlierConsecutiveFailures: 5,
  outlierBaseEjectionMs: 30_000,
  outlierMaxEjectionMs: 300_000,
} as const;

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
} as const;

/** Parts of a chat request that may be classified (a completion request's prompt is always classified whole). */
export const CLASSIFY_FIELDS = ['system', 'last_user', 'all_user', 'assistant'] as const;
export const DEFAULT_CLASSIFY_FIELDS: readonly (typeof CLASSIFY_FIELDS)[number][] = ['system', 'last_user'];

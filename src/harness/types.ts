/** The load harness's shared shapes: one request's record, service-level objectives, options. */

/**
 * One request as the harness saw it. Times are milliseconds on the run clock (performance.now()
 * minus the run's start), so records of one run compare directly.
 *
 * `chunk_times_ms` holds the arrival time of every chunk that carried output text, as an offset
 * from `sent_ms` (not from the run start): t_k = sent_ms + chunk_times_ms[k-1].
 */
export interface RequestRecord {
  id: number;
  /** Index of the level (in the sweep) that issued it. */
  level: number;
  /** The closed-loop user that sent it. */
  user?: number;
  /** Open loop: when the arrival process said to send it; latencies are measured from here. */
  scheduled_ms?: number;
  /** When the harness handed the request to its HTTP client (live runs). */
  dispatched_ms?: number;
  /**
   * When the request was written to the socket (the actual send): after dispatched_ms by a new
   * connection's setup, or by the HTTP client's deferral of a write on a reused one. A request
   * that failed before its write keeps its dispatch time.
   */
  sent_ms: number;
  /** Convenience copy of TTFT as defined in docs/architecture.md (t_1 - t_s); summarizeLevel recomputes it. */
  ttft_ms?: number;
  chunk_times_ms: number[];
  /** When the response ended (stream closed) or the failure was seen. */
  end_ms: number;
  output_tokens: number;
  tokens_source: 'usage' | 'counted';
  prompt_tokens?: number;
  /** From the gateway's x-expert-router-expert / x-expert-router-cluster headers. */
  expert?: string;
  cluster?: string;
  status: 'ok' | 'error';
  http_status?: number;
  error_kind?: string;
  error_message?: string;
  /** Sent during the level's warm-up: recorded, excluded from every figure. */
  warmup?: boolean;
}

/** Service-level objectives for goodput; a request meets them when it meets every one given. */
export interface Slo {
  ttft_ms?: number;
  tpot_ms?: number;
  e2e_ms?: number;
}

/** The stable error kinds the client records (http_<status> for non-2xx answers). */
export const ERROR_KINDS = [
  'connect_refused',
  'connect_reset',
  'connect_timeout',
  'unreachable',
  'dns_failure',
  'malformed_sse',
  'truncated_stream',
  'stall_timeout',
  'stream_error',
  'cancelled',
  'client_error',
] as const;

export type ErrorKind = (typeof ERROR_KINDS)[number] | `http_${number}`;

export type Protocol = 'openai' | 'triton';

export type ThinkTime = { kind: 'fixed'; ms: number } | { kind: 'exponential'; meanMs: number };

export type LoadSpec =
  | { mode: 'closed'; users: number[]; thinkTime?: ThinkTime; rampUpMs?: number }
  | { mode: 'open'; rates: number[]; arrival: 'constant' | 'poisson' };

/** One prompt to send; `maxTokens` overrides the run's max_tokens (synthetic output lengths). */
export interface Prompt {
  text: string;
  maxTokens?: number;
}

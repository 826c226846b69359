/**
 * Errors with stable codes, mapped to OpenAI-style bodies: {"error": {message, type, code, param}}.
 * Every module that answers HTTP (gateway, simulator, stubs) throws or returns these.
 */
import { ExpertRouterError } from '../common/errors.js';

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'rate_limit_error'
  | 'not_found_error'
  | 'server_error'
  | 'upstream_error'
  | 'timeout_error'
  | 'overloaded_error';

/** The stable codes. Add new ones here so every failure stays enumerable. */
export const ERROR_CODES = {
  invalid_json: { status: 400, type: 'invalid_request_error' },
  invalid_request: { status: 400, type: 'invalid_request_error' },
  context_length_exceeded: { status: 400, type: 'invalid_request_error' },
  body_too_large: { status: 413, type: 'invalid_request_error' },
  unsupported_media_type: { status: 415, type: 'invalid_request_error' },
  unauthorized: { status: 401, type: 'authentication_error' },
  permission_denied: { status: 403, type: 'permission_error' },
  rate_limited: { status: 429, type: 'rate_limit_error' },
  not_found: { status: 404, type: 'not_found_error' },
  model_not_found: { status: 404, type: 'not_found_error' },
  method_not_allowed: { status: 405, type: 'invalid_request_error' },
  invalid_config: { status: 400, type: 'invalid_request_error' },
  overloaded: { status: 429, type: 'overloaded_error' },
  /** The request waited for an admission slot longer than the wait limit. */
  queue_timeout: { status: 503, type: 'overloaded_error' },
  /** Every replica of the expert is out of rotation (circuit breaker open, or ejected). */
  circuit_open: { status: 503, type: 'upstream_error' },
  /** The expert answered 503 (overloaded or starting). */
  upstream_unavailable: { status: 503, type: 'upstream_error' },
  /** The client left before the answer (recorded, never sent). */
  client_closed: { status: 499, type: 'invalid_request_error' },
  /** The gateway is at its cap on open client connections (sent raw, before any request is read). */
  too_many_connections: { status: 503, type: 'overloaded_error' },
  /** The client stopped reading the answer for longer than the send timeout. */
  client_send_timeout: { status: 408, type: 'timeout_error' },
  no_healthy_replica: { status: 503, type: 'upstream_error' },
  not_ready: { status: 503, type: 'server_error' },
  shutting_down: { status: 503, type: 'server_error' },
  upstream_error: { status: 502, type: 'upstream_error' },
  upstream_unreachable: { status: 502, type: 'upstream_error' },
  upstream_bad_response: { status: 502, type: 'upstream_error' },
  upstream_timeout: { status: 504, type: 'timeout_error' },
  /** The expert sent no byte for longer than the stream idle limit, or ran past the total deadline. */
  upstream_idle_timeout: { status: 504, type: 'timeout_error' },
  upstream_deadline: { status: 504, type: 'timeout_error' },
  upstream_stream_error: { status: 502, type: 'upstream_error' },
  injected_fault: { status: 500, type: 'server_error' },
  internal_error: { status: 500, type: 'server_error' },
} as const satisfies Record<string, { status: number; type: ErrorType }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface OpenAIErrorBody {
  error: { message: string; type: string; code: string; param: string | null };
}

export class ApiError extends ExpertRouterError<ErrorCode> {
  readonly status: number;
  readonly type: ErrorType;
  /** The request field at fault, when one is. */
  readonly param: string | null;
  /** Seconds after which the client may try again, sent as Retry-After. */
  readonly retryAfterS: number | undefined;

  constructor(code: ErrorCode, message: string, options: { param?: string; status?: number; cause?: unknown; retryAfterS?: number } = {}) {
    super(code, message, { cause: options.cause });
    this.status = options.status ?? ERROR_CODES[code].status;
    this.type = ERROR_CODES[code].type;
    this.param = options.param ?? null;
    this.retryAfterS = options.retryAfterS;
  }

  toBody(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, code: this.code, param: this.param } };
  }
}

/** Wraps anything thrown into an ApiError; unknown failures become internal_error. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ApiError('internal_error', `internal error: ${message}`, { cause: err });
}

export function isErrorBody(value: unknown): value is OpenAIErrorBody {
  if (typeof value !== 'object' || value === null) return false;
  const e = (value as { error?: unknown }).error;
  return typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string';
}

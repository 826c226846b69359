/**
 * Maps a non-2xx answer of an expert server to the gateway's error. The client gets a status, a
 * stable code and a message the gateway writes; what the upstream said goes only to the gateway's
 * log, through upstreamDetail, with anything that looks like a secret redacted (an upstream 401 may
 * well repeat the Authorization header it was sent).
 */
import { ApiError } from '../protocol/index.js';

/** The upstream's own message: OpenAI's {"error": {"message"}}, Triton's {"error": "..."}, or the text. */
export function upstreamMessage(body: Buffer): string {
  const text = body.toString('utf8', 0, Math.min(body.length, 4096)).trim();
  try {
    const value = JSON.parse(text) as { error?: unknown; message?: unknown; detail?: unknown } | null;
    const err = value?.error;
    if (typeof err === 'string') return err;
    if (typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string') {
      return (err as { message: string }).message;
    }
    if (typeof value?.message === 'string') return value.message;
    if (typeof value?.detail === 'string') return value.detail;
  } catch {
    // not JSON: the text itself
  }
  return text || '(empty body)';
}

const SECRETS: [RegExp, string][] = [
  [/\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{4,}/gi, '$1 [redacted]'],
  [/\b((?:proxy-)?authorization|x-api-key|api[-_]?key|cookie|set-cookie|password|secret|access[-_]?token)(["']?\s*[:=]\s*["']?)[^\s"',;]+/gi, '$1$2[redacted]'],
  [/\bsk-[A-Za-z0-9_-]{6,}/g, 'sk-[redacted]'],
];

/** `text` with header-like secrets (Bearer tokens, api keys, cookies, sk-... keys) replaced by [redacted]. */
export function redactSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRETS) out = out.replace(pattern, replacement);
  return out;
}

/** What the upstream said, redacted and cut to 500 characters: for the gateway's log only. */
export function upstreamDetail(body: Buffer): string {
  return redactSecrets(upstreamMessage(body)).slice(0, 500);
}

/**
 * The client's own mistakes found upstream (400, 413, 422) keep a 4xx; an overloaded upstream is 429
 * or 503 with its Retry-After; anything else is the upstream's failure, 502.
 */
export function upstreamError(status: number, retryAfterS?: number): ApiError {
  if (status === 400 || status === 422) return new ApiError('invalid_request', `the expert refused the request as invalid (upstream status ${status})`);
  if (status === 413) return new ApiError('body_too_large', 'the expert refused the request as too large (upstream status 413)');
  if (status === 429) return new ApiError('overloaded', 'the expert is overloaded (upstream status 429)', { retryAfterS });
  if (status === 503) return new ApiError('upstream_unavailable', 'the expert is unavailable (upstream status 503)', { retryAfterS });
  if (status === 401 || status === 403) return new ApiError('upstream_error', `the expert refused the gateway's credentials (upstream status ${status})`);
  return new ApiError('upstream_error', `the expert answered with status ${status}`);
}

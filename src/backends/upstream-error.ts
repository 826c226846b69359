/** Maps a non-2xx answer of an expert server to the gateway's error, keeping the upstream message. */
import { ApiError } from '../protocol/index.js';

/** The upstream's own message: OpenAI's {"error": {"message"}}, Triton's {"error": "..."}, or the text. */
export function upstreamMessage(body: Buffer): string {
  const text = body.toString('utf8', 0, Math.min(body.length, 4096)).trim();
  try {
    const value = JSON.parse(text) as { error?: unknown; message?: unknown; detail?: unknown };
    const err = value.error;
    if (typeof err === 'string') return err;
    if (typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string') {
      return (err as { message: string }).message;
    }
    if (typeof value.message === 'string') return value.message;
    if (typeof value.detail === 'string') return value.detail;
  } catch {
    // not JSON: the text itself
  }
  return text || '(empty body)';
}

/**
 * The client's own mistakes found upstream (400, 413, 422) keep a 4xx; an overloaded upstream is 429;
 * anything else is the upstream's failure, 502.
 */
export function upstreamError(status: number, body: Buffer): ApiError {
  const message = `upstream answered ${status}: ${upstreamMessage(body)}`;
  if (status === 400 || status === 422) return new ApiError('invalid_request', message);
  if (status === 413) return new ApiError('body_too_large', message);
  if (status === 429) return new ApiError('overloaded', message);
  return new ApiError('upstream_error', message);
}

/** The simulated server's one mapping from what a handler throws to an API error. */
import { ApiError, toApiError } from '../../protocol/index.js';
import { SimError } from '../errors.js';

/** A SimError (a request the engine cannot take) is the client's fault: invalid_request; the rest as protocol/errors maps it. */
export function simApiError(err: unknown): ApiError {
  if (err instanceof SimError) return new ApiError('invalid_request', err.message, { cause: err });
  return toApiError(err);
}

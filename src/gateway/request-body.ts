/** Validation of the completion request bodies (the zod schemas of src/protocol). */
import type { RequestKind } from '../backends/index.js';
import { chatCompletionRequestSchema, completionRequestSchema, validateRequest } from '../protocol/index.js';

/** The validated body, unknown fields kept; a problem is a 400 naming the field. */
export function validateCompletionBody(raw: Record<string, unknown>, kind: RequestKind): Record<string, unknown> {
  return kind === 'chat' ? validateRequest(chatCompletionRequestSchema, raw) : validateRequest(completionRequestSchema, raw);
}

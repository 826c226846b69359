/**
 * Validation of the completion request bodies. The zod schemas of src/protocol are the definition;
 * a hand-written check of the usual shape (string contents, known fields with plain values) answers
 * first, because running zod on every request costs more than the rest of the pre-forwarding path.
 * The check only ever says "certainly valid": anything it is unsure of goes to zod, which also names
 * the bad field for the 400.
 */
import type { RequestKind } from '../backends/index.js';
import { chatCompletionRequestSchema, completionRequestSchema, validateRequest } from '../protocol/index.js';

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);

type Check = (value: unknown) => boolean;

const optional = (check: Check): Check => (v) => v === undefined || check(v);
const nullable = (check: Check): Check => (v) => v === undefined || v === null || check(v);
const isString: Check = (v) => typeof v === 'string';
const isBoolean: Check = (v) => typeof v === 'boolean';
const inRange = (min: number, max: number): Check => (v) => typeof v === 'number' && v >= min && v <= max;
const isPositiveInt: Check = (v) => Number.isSafeInteger(v) && (v as number) > 0;
const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The sampling fields shared by both endpoints, checked as strictly as the zod schema does. */
const SAMPLING: [string, Check][] = [
  ['model', (v) => typeof v === 'string' && v.length > 0],
  ['stream', optional(isBoolean)],
  ['stream_options', nullable((v) => isPlainObject(v) && (v.include_usage === undefined || typeof v.include_usage === 'boolean'))],
  ['max_tokens', nullable(isPositiveInt)],
  ['max_completion_tokens', nullable(isPositiveInt)],
  ['temperature', nullable(inRange(0, 2))],
  ['top_p', nullable(inRange(0, 1))],
  ['n', nullable((v) => v === 1)],
  ['stop', nullable((v) => typeof v === 'string' || (Array.isArray(v) && v.every(isString)))],
  ['seed', nullable(Number.isSafeInteger)],
  ['ignore_eos', optional(isBoolean)],
  ['user', optional(isString)],
];

function plainMessages(v: unknown): boolean {
  if (!Array.isArray(v) || v.length === 0) return false;
  for (const m of v) {
    if (!isPlainObject(m) || typeof m.role !== 'string' || !ROLES.has(m.role)) return false;
    // Multi-part content is left to zod.
    if (m.content !== undefined && m.content !== null && typeof m.content !== 'string') return false;
    if (m.name !== undefined && typeof m.name !== 'string') return false;
  }
  return true;
}

/** True only for a body the zod schema of `kind` certainly accepts. */
export function isCertainlyValid(raw: Record<string, unknown>, kind: RequestKind): boolean {
  for (const [field, check] of SAMPLING) if (!check(raw[field])) return false;
  if (kind === 'chat') return plainMessages(raw.messages);
  const prompt = raw.prompt;
  return typeof prompt === 'string' || (Array.isArray(prompt) && prompt.length === 1 && typeof prompt[0] === 'string');
}

/** The validated body, unknown fields kept; a problem is a 400 naming the field. */
export function validateCompletionBody(raw: Record<string, unknown>, kind: RequestKind): Record<string, unknown> {
  if (isCertainlyValid(raw, kind)) return raw;
  return kind === 'chat' ? validateRequest(chatCompletionRequestSchema, raw) : validateRequest(completionRequestSchema, raw);
}

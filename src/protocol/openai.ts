/**
 * The OpenAI-compatible request shapes the project accepts, validated with zod. Unknown fields are
 * kept (passthrough) so a gateway forwards what it does not itself understand.
 */
import { z } from 'zod';
import { ApiError } from './errors.js';

const contentPart = z.looseObject({ type: z.string(), text: z.string().optional() });

export const chatMessageSchema = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
  content: z.union([z.string(), z.array(contentPart), z.null()]).optional(),
  name: z.string().optional(),
});

const samplingFields = {
  model: z.string().min(1),
  stream: z.boolean().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  max_tokens: z.number().int().positive().nullable().optional(),
  max_completion_tokens: z.number().int().positive().nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  n: z.number().int().min(1).max(1, 'only n=1 is supported').nullable().optional(),
  stop: z.union([z.string(), z.array(z.string())]).nullable().optional(),
  seed: z.number().int().nullable().optional(),
  ignore_eos: z.boolean().optional(),
  user: z.string().optional(),
};

export const chatCompletionRequestSchema = z.looseObject({
  ...samplingFields,
  messages: z.array(chatMessageSchema).min(1, 'messages must hold at least one message'),
});

export const completionRequestSchema = z.looseObject({
  ...samplingFields,
  prompt: z.union([z.string(), z.array(z.string()).length(1, 'only a single prompt is supported')]),
});

export type ChatMessage = z.infer<typeof chatMessageSchema>;
export type ChatCompletionRequest = z.infer<typeof chatCompletionRequestSchema>;
export type CompletionRequest = z.infer<typeof completionRequestSchema>;
export type AnyCompletionRequest = ChatCompletionRequest | CompletionRequest;

/** Validates a parsed body against a schema; the first problem becomes a 400 naming the field. */
export function validateRequest<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const param = issue.path.map(String).join('.') || null;
  const where = param ? `'${param}'` : 'request body';
  throw new ApiError('invalid_request', `invalid ${where}: ${issue.message}`, param ? { param } : {});
}

/** The text of a message's content, joining text parts of multi-part content. */
export function messageText(message: Pick<ChatMessage, 'content'>): string {
  const content = message.content;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let text = '';
  for (const part of content) if (typeof part.text === 'string') text += (text ? '\n' : '') + part.text;
  return text;
}

/** max_tokens, honouring the newer max_completion_tokens name. */
export function requestedMaxTokens(req: AnyCompletionRequest): number | undefined {
  return req.max_completion_tokens ?? req.max_tokens ?? undefined;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

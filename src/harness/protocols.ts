/**
 * The two wire protocols the harness speaks, behind one small interface: how to build the streaming
 * request, and what each SSE event carried.
 */
import { renderLlama3, type SseEvent } from '../protocol/index.js';
import type { Prompt, Protocol } from './types.js';

export interface RequestSettings {
  model: string;
  maxTokens?: number;
  ignoreEos?: boolean;
}

/** What one event carried. `malformed` and `error` end the request as a failure of that kind. */
export interface EventResult {
  text?: boolean;
  completionTokens?: number;
  promptTokens?: number;
  done?: boolean;
  error?: string;
  malformed?: string;
}

export interface ProtocolAdapter {
  readonly name: Protocol;
  /** Whether a complete stream ends with an explicit terminator ([DONE]); else the body's end is the end. */
  readonly terminated: boolean;
  path(model: string): string;
  body(prompt: Prompt, settings: RequestSettings): string;
  read(event: SseEvent): EventResult;
}

function parseJson(data: string): { value?: Record<string, unknown>; malformed?: string } {
  try {
    const value: unknown = JSON.parse(data);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return { value: value as Record<string, unknown> };
    return { malformed: 'SSE data is not a JSON object' };
  } catch {
    return { malformed: `SSE data is not JSON: ${data.slice(0, 80)}` };
  }
}

function errorMessage(error: unknown): string | undefined {
  if (error === undefined || error === null) return undefined;
  if (typeof error === 'string') return error;
  const message = (error as { message?: unknown }).message;
  return typeof message === 'string' ? message : JSON.stringify(error);
}

/** OpenAI-compatible chat completions, streamed with stream_options.include_usage. */
export const openaiProtocol: ProtocolAdapter = {
  name: 'openai',
  terminated: true,
  path: () => '/v1/chat/completions',
  body(prompt, s) {
    const maxTokens = prompt.maxTokens ?? s.maxTokens;
    return JSON.stringify({
      model: s.model,
      messages: [{ role: 'user', content: prompt.text }],
      stream: true,
      stream_options: { include_usage: true },
      ...(maxTokens !== undefined ? { max_tokens: maxTokens } : {}),
      ...(s.ignoreEos ? { ignore_eos: true } : {}),
    });
  },
  read(event) {
    if (event.data === '[DONE]') return { done: true };
    const { value, malformed } = parseJson(event.data);
    if (!value) return { malformed };
    const error = errorMessage(value.error);
    if (event.event === 'error' || error !== undefined) return { error: error ?? 'error event' };
    const out: EventResult = {};
    const choices = value.choices;
    if (!Array.isArray(choices)) return { malformed: "SSE chunk has no 'choices' array" };
    const choice = choices[0] as { delta?: { content?: unknown }; text?: unknown } | undefined;
    const text = choice?.delta?.content ?? choice?.text;
    if (typeof text === 'string' && text !== '') out.text = true;
    const usage = value.usage as { completion_tokens?: unknown; prompt_tokens?: unknown } | null | undefined;
    if (usage && typeof usage.completion_tokens === 'number') out.completionTokens = usage.completion_tokens;
    if (usage && typeof usage.prompt_tokens === 'number') out.promptTokens = usage.prompt_tokens;
    return out;
  },
};

/** Triton's generate_stream (TensorRT-LLM ensemble): the prompt goes in Llama 3's chat template. */
export const tritonProtocol: ProtocolAdapter = {
  name: 'triton',
  terminated: false,
  path: (model) => `/v2/models/${encodeURIComponent(model)}/generate_stream`,
  body(prompt, s) {
    const maxTokens = prompt.maxTokens ?? s.maxTokens;
    return JSON.stringify({
      text_input: renderLlama3([{ role: 'user', content: prompt.text }]),
      stream: true,
      ...(maxTokens !== undefined ? { max_tokens: maxTokens } : {}),
      ...(s.ignoreEos ? { ignore_eos: true } : {}),
    });
  },
  read(event) {
    const { value, malformed } = parseJson(event.data);
    if (!value) return { malformed };
    const error = errorMessage(value.error);
    if (event.event === 'error' || error !== undefined) return { error: error ?? 'error event' };
    if (typeof value.text_output !== 'string') return { malformed: "SSE event has no 'text_output'" };
    const out: EventResult = {};
    if (value.text_output !== '') out.text = true;
    // output_token_count is cumulative when the server sends it (the project's simulator does).
    if (typeof value.output_token_count === 'number') out.completionTokens = value.output_token_count;
    if (typeof value.prompt_token_count === 'number') out.promptTokens = value.prompt_token_count;
    return out;
  },
};

export function protocolAdapter(name: Protocol): ProtocolAdapter {
  return name === 'triton' ? tritonProtocol : openaiProtocol;
}

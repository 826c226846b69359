/**
 * Triton Inference Server's generate / generate_stream with TensorRT-LLM ensemble inputs
 * (text_input, max_tokens, stream, sampling parameters). Chat messages are rendered to one prompt
 * with a chat template; answers are adapted to OpenAI responses and chunks, usage included.
 */
import { randomBytes } from 'node:crypto';
import {
  ApiError,
  SSE_DONE,
  SseParser,
  renderChat,
  requestedMaxTokens,
  sseData,
  type AnyCompletionRequest,
  type ChatCompletionRequest,
  type ChatTemplateName,
  type CompletionRequest,
  type TritonGenerateRequest,
  type Usage,
} from '../protocol/index.js';
import type { AdaptedResponse, BackendCall, BackendProtocol, StreamRelay, TokenUsage, UpstreamRequest } from './types.js';
import { upstreamError } from './upstream-error.js';

export interface TritonOptions {
  chatTemplate: ChatTemplateName;
  /** max_tokens when the request gives none (TensorRT-LLM requires one). */
  defaultMaxTokens: number;
}

function maxTokensOf(call: BackendCall, opts: TritonOptions): number {
  return requestedMaxTokens(call.body as unknown as AnyCompletionRequest) ?? opts.defaultMaxTokens;
}

function textInput(call: BackendCall, opts: TritonOptions): string {
  if (call.kind === 'chat') return renderChat((call.body as unknown as ChatCompletionRequest).messages, opts.chatTemplate);
  const prompt = (call.body as unknown as CompletionRequest).prompt;
  return typeof prompt === 'string' ? prompt : prompt[0];
}

function buildRequest(call: BackendCall, opts: TritonOptions): UpstreamRequest {
  const b = call.body as unknown as AnyCompletionRequest & { top_k?: unknown };
  const input: TritonGenerateRequest = { text_input: textInput(call, opts), max_tokens: maxTokensOf(call, opts), stream: call.stream };
  if (typeof b.temperature === 'number') input.temperature = b.temperature;
  if (typeof b.top_p === 'number') input.top_p = b.top_p;
  if (typeof b.top_k === 'number') input.top_k = b.top_k;
  if (typeof b.seed === 'number') input.random_seed = b.seed;
  if (b.stop) input.stop_words = typeof b.stop === 'string' ? [b.stop] : b.stop;
  if (b.ignore_eos !== undefined) input.ignore_eos = b.ignore_eos;
  const model = encodeURIComponent(call.model);
  return { path: `/v2/models/${model}/${call.stream ? 'generate_stream' : 'generate'}`, body: JSON.stringify(input) };
}

/** The fields of one Triton answer the gateway reads; throws when the answer is an error or malformed. */
function readOutput(data: string): { text: string; outputTokens?: number; promptTokens?: number } {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(data) as Record<string, unknown>;
  } catch {
    throw new ApiError('upstream_bad_response', 'the expert sent an answer that is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ApiError('upstream_bad_response', 'the expert sent an answer that is not a JSON object');
  // The expert's own words go to the gateway's log (as the cause), never to the client.
  if (typeof value.error === 'string') throw new ApiError('upstream_stream_error', 'the expert reported an error', { cause: new Error(value.error) });
  if (typeof value.text_output !== 'string') throw new ApiError('upstream_bad_response', 'the expert sent an answer without text_output');
  return {
    text: value.text_output,
    outputTokens: typeof value.output_token_count === 'number' ? value.output_token_count : undefined,
    promptTokens: typeof value.prompt_token_count === 'number' ? value.prompt_token_count : undefined,
  };
}

function usageOf(tokens: TokenUsage): Usage {
  const prompt = tokens.prompt ?? 0;
  const completion = tokens.completion ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

function newId(kind: BackendCall['kind']): string {
  return `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomBytes(12).toString('hex')}`;
}

class TritonStreamRelay implements StreamRelay {
  private readonly parser = new SseParser();
  private readonly id: string;
  private readonly created = Math.floor(Date.now() / 1000);
  private events = 0;
  private outputTokens: number | undefined;
  private promptTokens: number | undefined;

  constructor(private readonly call: BackendCall, private readonly maxTokens: number) {
    this.id = newId(call.kind);
  }

  get usage(): TokenUsage {
    // Without a count from the server, each streamed event is one token.
    return { prompt: this.promptTokens, completion: this.outputTokens ?? this.events };
  }

  data(chunk: Buffer): string | null {
    let out = '';
    for (const event of this.parser.push(chunk)) {
      const output = readOutput(event.data);
      if (output.outputTokens !== undefined) this.outputTokens = output.outputTokens;
      if (output.promptTokens !== undefined) this.promptTokens = output.promptTokens;
      out += sseData(this.chunk(output.text, this.events === 0, null));
      this.events++;
    }
    return out || null;
  }

  end(): string {
    if (this.parser.pending.trim() !== '') throw new ApiError('upstream_stream_error', 'the expert\'s stream was cut inside an event');
    if (this.events === 0) throw new ApiError('upstream_stream_error', 'the expert\'s stream ended without output');
    const usage = this.usage;
    const finish = (usage.completion ?? 0) >= this.maxTokens ? 'length' : 'stop';
    let out = sseData(this.chunk('', false, finish));
    if (this.call.clientWantsUsage) out += sseData({ ...this.base(), choices: [], usage: usageOf(usage) });
    return out + SSE_DONE;
  }

  private base(): Record<string, unknown> {
    const object = this.call.kind === 'chat' ? 'chat.completion.chunk' : 'text_completion';
    return { id: this.id, object, created: this.created, model: this.call.model };
  }

  private chunk(text: string, first: boolean, finish: string | null): Record<string, unknown> {
    const choice = this.call.kind === 'chat'
      ? { index: 0, delta: finish ? {} : first ? { role: 'assistant', content: text } : { content: text }, finish_reason: finish }
      : { index: 0, text, logprobs: null, finish_reason: finish };
    return { ...this.base(), choices: [choice] };
  }
}

function adaptResponse(call: BackendCall, body: Buffer, maxTokens: number): AdaptedResponse {
  const output = readOutput(body.toString('utf8'));
  const tokens: TokenUsage = { prompt: output.promptTokens, completion: output.outputTokens };
  const usage = usageOf(tokens);
  const finish = usage.completion_tokens >= maxTokens ? 'length' : 'stop';
  const created = Math.floor(Date.now() / 1000);
  const answer = call.kind === 'chat'
    ? { id: newId('chat'), object: 'chat.completion', created, model: call.model, choices: [{ index: 0, message: { role: 'assistant', content: output.text }, finish_reason: finish }], usage }
    : { id: newId('completion'), object: 'text_completion', created, model: call.model, choices: [{ index: 0, text: output.text, logprobs: null, finish_reason: finish }], usage };
  return { body: JSON.stringify(answer), usage: tokens };
}

export function createTritonBackend(opts: TritonOptions): BackendProtocol {
  return {
    name: 'triton',
    healthPath: '/v2/health/ready',
    request: (call) => buildRequest(call, opts),
    streamRelay: (call) => new TritonStreamRelay(call, maxTokensOf(call, opts)),
    response: (call, body) => adaptResponse(call, body, maxTokensOf(call, opts)),
    upstreamError,
  };
}

/**
 * OpenAI-compatible expert servers (vLLM, SGLang, TGI, llama.cpp, Ollama, trtllm-serve). The request
 * is forwarded with the expert's model name; the answer is relayed byte for byte. Bytes are only
 * scanned (never parsed) for the usage numbers and the final [DONE].
 */
import { ApiError } from '../protocol/index.js';
import { IntFieldScanner, KeyScanner } from './byte-scan.js';
import { setTopLevelMembers } from './json-splice.js';
import type { AdaptedResponse, BackendCall, BackendProtocol, StreamRelay, TokenUsage, UpstreamRequest } from './types.js';
import { upstreamError } from './upstream-error.js';

const EVENT_END = Buffer.from('\n\n');
const USAGE_EVENT = Buffer.from('"usage":{');
const EMPTY_CHOICES = Buffer.from('"choices":[]');
/** Bodies from this size on are spliced rather than re-serialised (see request()). */
const SPLICE_FROM_BYTES = 2048;

function request(call: BackendCall): UpstreamRequest {
  const changed: Record<string, unknown> = { model: call.model };
  // Always ask for usage so every streamed request is counted; the chunk is removed again when
  // the client did not ask for it (clients index choices[0] and would break on it).
  if (call.stream) changed.stream_options = { ...(call.body.stream_options as object | null | undefined), include_usage: true };
  const path = call.kind === 'chat' ? '/v1/chat/completions' : '/v1/completions';
  // Long bodies (chat histories) are forwarded as the client's bytes with only these members
  // replaced; short ones are re-serialised, which is cheaper below about 1-2 KiB (measured: 434 B
  // 2.5 µs stringify vs 4.1 µs splice; 6.8 KiB 15.6 vs 7.7 µs; 67 KiB 114 vs 41 µs).
  const spliced = call.raw && call.raw.length >= SPLICE_FROM_BYTES && setTopLevelMembers(call.raw, changed);
  return { path, body: spliced || JSON.stringify({ ...call.body, ...changed }) };
}

/**
 * The usage numbers of an answer. Token chunks are only searched for the `"usage":` key (one
 * search per chunk); the numbers are read from the bytes after it.
 */
class UsageScan {
  private readonly key = new KeyScanner('"usage":');
  private inUsage = false;
  private readonly prompt = new IntFieldScanner('prompt_tokens');
  private readonly completion = new IntFieldScanner('completion_tokens');

  push(chunk: Buffer): void {
    let bytes = chunk;
    if (!this.inUsage) {
      const at = this.key.first(chunk);
      if (at === -1) return;
      // From here on every byte is scanned (some servers send usage in every chunk).
      this.inUsage = true;
      bytes = chunk.subarray(at);
    }
    this.prompt.push(bytes);
    this.completion.push(bytes);
  }

  get usage(): TokenUsage {
    return { prompt: this.prompt.value, completion: this.completion.value };
  }
}

class OpenAIStreamRelay implements StreamRelay {
  private readonly scan = new UsageScan();
  // A newline before "data: [DONE]" cannot occur inside a JSON string, so text cannot fake the end;
  // primed, so that a stream whose very first bytes are "data: [DONE]" ends cleanly too.
  private readonly doneScanner = new KeyScanner('\ndata: [DONE]', true);
  private done = false;
  /** Only when the usage chunk must be removed: the incomplete last event of the previous chunk. */
  private pending: Buffer | undefined;

  constructor(private readonly stripUsage: boolean) {}

  get usage(): TokenUsage {
    return this.scan.usage;
  }

  data(chunk: Buffer): Buffer | null {
    this.scan.push(chunk);
    if (!this.done && this.doneScanner.first(chunk) !== -1) this.done = true;
    return this.stripUsage ? this.withoutUsage(chunk) : chunk;
  }

  end(): Buffer | null {
    if (!this.done) throw new ApiError('upstream_stream_error', 'the expert ended the stream before [DONE]');
    const rest = this.pending ?? null;
    this.pending = undefined;
    return rest;
  }

  /** Relays whole events only, dropping the usage-only event ("choices":[] with a usage object). */
  private withoutUsage(chunk: Buffer): Buffer | null {
    // The usual chunk: whole events, no usage object in them.
    const n = chunk.length;
    if (!this.pending && n >= 2 && chunk[n - 1] === 0x0a && chunk[n - 2] === 0x0a && chunk.indexOf(USAGE_EVENT) === -1) return chunk;
    const bytes = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    const cut = bytes.lastIndexOf(EVENT_END);
    if (cut === -1) {
      this.pending = bytes;
      return null;
    }
    const complete = bytes.subarray(0, cut + EVENT_END.length);
    this.pending = cut + EVENT_END.length < bytes.length ? Buffer.from(bytes.subarray(cut + EVENT_END.length)) : undefined;
    if (complete.indexOf(USAGE_EVENT) === -1) return complete;
    const kept: Buffer[] = [];
    let start = 0;
    while (start < complete.length) {
      const end = complete.indexOf(EVENT_END, start) + EVENT_END.length;
      const event = complete.subarray(start, end);
      if (event.indexOf(USAGE_EVENT) === -1 || event.indexOf(EMPTY_CHOICES) === -1) kept.push(event);
      start = end;
    }
    return kept.length ? Buffer.concat(kept) : null;
  }
}

/** A non-streamed answer must be one JSON object (not HTML, not SSE, not cut short); else 502 upstream_bad_response. */
function response(_call: BackendCall, body: Buffer): AdaptedResponse {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new ApiError('upstream_bad_response', 'the expert answered with a body that is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ApiError('upstream_bad_response', 'the expert answered with JSON that is not an object');
  const scan = new UsageScan();
  scan.push(body);
  return { body, usage: scan.usage };
}

export const openaiBackend: BackendProtocol = {
  name: 'openai',
  healthPath: '/v1/models',
  request,
  streamRelay: (call) => new OpenAIStreamRelay(!call.clientWantsUsage),
  response,
  upstreamError,
};

/** Server-sent events: framing for writers and an incremental parser for readers. */
import type { OpenAIErrorBody } from './errors.js';

/** No `connection` header: node:http keeps the connection alive unless the client asked to close it. */
export const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
} as const;

export const SSE_DONE = 'data: [DONE]\n\n';

export function sseData(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`;
}

/**
 * The error event that ends a stream that failed midway. OpenAI's own streams carry errors as a
 * data event with an `error` object; `event: error` lets SSE-aware clients see it too.
 */
export function sseError(body: OpenAIErrorBody): string {
  return `event: error\ndata: ${JSON.stringify(body)}\n\n`;
}

export interface SseEvent {
  event: string | undefined;
  data: string;
}

/**
 * Incremental SSE parser: feed it byte chunks as they arrive, it returns the complete events.
 * Handles events split across chunks, CRLF line ends and multi-line data fields.
 */
export class SseParser {
  private buffer = '';
  private readonly decoder = new TextDecoder();

  push(chunk: Uint8Array | string): SseEvent[] {
    this.buffer += typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    const events: SseEvent[] = [];
    for (;;) {
      const match = /\r?\n\r?\n/.exec(this.buffer);
      if (!match) break;
      const block = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const event = parseBlock(block);
      if (event) events.push(event);
    }
    return events;
  }

  /** Bytes received that do not yet form a complete event (non-empty at end means truncation). */
  get pending(): string {
    return this.buffer;
  }
}

function parseBlock(block: string): SseEvent | undefined {
  let event: string | undefined;
  const data: string[] = [];
  for (const line of block.split(/\r?\n/)) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
  }
  if (data.length === 0 && event === undefined) return undefined;
  return { event, data: data.join('\n') };
}

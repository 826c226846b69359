/**
 * The backend protocol contract: how the gateway talks to one kind of expert server. Each protocol
 * builds the upstream request and adapts the upstream response (whole or streamed) to the
 * OpenAI-compatible answer the client expects.
 */
import type { ApiError } from '../protocol/index.js';

export type BackendProtocolName = 'openai' | 'triton';
export type RequestKind = 'chat' | 'completion';

/** One client request, validated, as a backend sees it. */
export interface BackendCall {
  kind: RequestKind;
  /** The validated request body (unknown fields kept). */
  body: Record<string, unknown>;
  /** The body's bytes as the client sent them (they parse to `body`), for forwarding without re-serialising. */
  raw?: Buffer;
  /** Model name to send upstream. */
  model: string;
  stream: boolean;
  /** The client asked for a usage chunk at the end of the stream. */
  clientWantsUsage: boolean;
}

export interface UpstreamRequest {
  path: string;
  body: string | Buffer;
}

export interface TokenUsage {
  prompt: number | undefined;
  completion: number | undefined;
}

/** Adapts one upstream stream to the client's SSE stream. Methods throw ApiError on a broken stream. */
export interface StreamRelay {
  /** Bytes for the client from one upstream chunk (null: nothing to send yet). */
  data(chunk: Buffer): Buffer | string | null;
  /** The upstream stream ended: the last bytes for the client; throws when the stream is incomplete. */
  end(): Buffer | string | null;
  readonly usage: TokenUsage;
}

/** A whole (non-streamed) answer adapted for the client. */
export interface AdaptedResponse {
  body: Buffer | string;
  usage: TokenUsage;
}

export interface BackendProtocol {
  readonly name: BackendProtocolName;
  /** GET path that answers when the server is up. */
  readonly healthPath: string;
  request(call: BackendCall): UpstreamRequest;
  streamRelay(call: BackendCall): StreamRelay;
  /** Adapts a 2xx non-streamed body; throws ApiError when it cannot be understood. */
  response(call: BackendCall, body: Buffer): AdaptedResponse;
  /** The error for a non-2xx upstream answer (a gateway-written message; `retryAfterS` from the upstream's Retry-After). */
  upstreamError(status: number, retryAfterS?: number): ApiError;
}

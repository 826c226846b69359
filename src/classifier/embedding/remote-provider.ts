/**
 * The remote provider: any OpenAI-compatible `POST /v1/embeddings` (vLLM, TEI, Ollama, llama.cpp server,
 * OpenAI itself), through the gateway's keep-alive pool. Every failure becomes an EmbeddingError with a
 * stable code and a message naming the endpoint; nothing the upstream says (status text, error body) is
 * passed on. A timeout bounds each call; a caller's signal can end it sooner.
 */
import { EmbeddingError } from './errors.js';
import type { EmbeddingProvider } from './types.js';
import { AnswerTooLarge, createUpstream, postCollect, type TransportRequest, type UpstreamTransport } from './upstream-post.js';

export interface RemoteEmbeddingOptions {
  /** The server, e.g. http://10.0.0.5:8000; a path prefix (http://host/embed) is put before /v1/embeddings. */
  endpoint: string;
  /** The model name sent in the request (and part of the provider's name). */
  model: string;
  /** Sent as `authorization: Bearer <api_key>`. */
  apiKey?: string;
  /** Expected vector length; when absent the first answer sets it and later ones must match. */
  dimension?: number;
  /** Bound on one call, connection included (default 10,000 ms). */
  timeoutMs?: number;
  /** Cap on pooled connections (default 16); further calls wait in the pool's FIFO queue. */
  connections?: number;
  /** Largest answer accepted (default 64 MiB). */
  maxResponseBytes?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_CONNECTIONS = 16;
const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
const KEEP_ALIVE_MS = 30_000;
export const EMBEDDINGS_PATH = '/v1/embeddings';

export class RemoteEmbeddingProvider implements EmbeddingProvider {
  readonly name: string;
  private dim: number | undefined;
  private readonly pool: UpstreamTransport;
  private readonly path: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly origin: string;
  private closed = false;

  constructor(private readonly opts: RemoteEmbeddingOptions) {
    if (!opts.model) throw new EmbeddingError('invalid_option', 'model: the remote embeddings provider needs a model name');
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isFinite(this.timeoutMs) || this.timeoutMs <= 0) throw new EmbeddingError('invalid_option', `timeout_ms must be a positive number, got ${opts.timeoutMs}`);
    if (opts.dimension !== undefined && (!Number.isInteger(opts.dimension) || opts.dimension <= 0)) throw new EmbeddingError('invalid_option', `dimension must be a positive integer, got ${opts.dimension}`);
    let url: URL;
    try {
      url = new URL(opts.endpoint);
    } catch {
      throw new EmbeddingError('invalid_option', `endpoint: '${opts.endpoint}' is not a URL`);
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash || url.username || url.password) {
      throw new EmbeddingError('invalid_option', `endpoint: '${opts.endpoint}' must be http(s)://host:port, optionally with a path prefix`);
    }
    this.origin = url.origin;
    this.path = `${url.pathname.replace(/\/+$/, '')}${EMBEDDINGS_PATH}`;
    this.name = `remote:${opts.model}`;
    this.dim = opts.dimension;
    this.maxResponseBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.pool = createUpstream(this.origin, { connections: opts.connections ?? DEFAULT_CONNECTIONS, keepAliveMs: KEEP_ALIVE_MS, connectTimeoutMs: this.timeoutMs });
    this.headers = { 'content-type': 'application/json', accept: 'application/json' };
    if (opts.apiKey) this.headers.authorization = `Bearer ${opts.apiKey}`;
  }

  get dimension(): number | undefined {
    return this.dim;
  }

  async embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]> {
    if (this.closed) throw new EmbeddingError('embedding_closed', `the embeddings provider for ${this.origin} is closed`);
    if (texts.length === 0) return [];
    const timeout = new AbortController();
    const timer = setTimeout(
      () => timeout.abort(new EmbeddingError('embedding_timeout', `embeddings endpoint ${this.origin} did not answer within ${this.timeoutMs} ms`)),
      this.timeoutMs,
    );
    const both = signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal;
    const request: TransportRequest = {
      method: 'POST',
      path: this.path,
      headers: this.headers,
      body: JSON.stringify({ model: this.opts.model, input: texts, encoding_format: 'float' }),
    };
    let answer;
    try {
      answer = await postCollect(this.pool, request, this.maxResponseBytes, both);
    } catch (err) {
      if (both.aborted) throw both.reason;
      throw this.transportError(err);
    } finally {
      clearTimeout(timer);
    }
    if (answer.status < 200 || answer.status > 299) {
      throw new EmbeddingError('embedding_upstream_status', `embeddings endpoint ${this.origin} answered HTTP ${answer.status}`);
    }
    return this.parse(answer.body, texts.length);
  }

  /** Transport failures by their stable code; their messages (which may quote the upstream's bytes) are not passed on. */
  private transportError(err: unknown): EmbeddingError {
    if (err instanceof AnswerTooLarge) return new EmbeddingError('embedding_malformed', `embeddings endpoint ${this.origin} sent more than ${this.maxResponseBytes} bytes`);
    const code = (err as { code?: unknown }).code;
    if (code === 'connect_timeout') return new EmbeddingError('embedding_timeout', `connecting to embeddings endpoint ${this.origin} timed out`);
    if (code === 'bad_response') return new EmbeddingError('embedding_malformed', `embeddings endpoint ${this.origin} sent a malformed HTTP answer`);
    const why = typeof code === 'string' && /^[a-z_]+$/.test(code) ? code : 'connection failed';
    return new EmbeddingError('embedding_unreachable', `cannot reach embeddings endpoint ${this.origin} (${why})`, { cause: err });
  }

  /** The OpenAI shape: { data: [{ index, embedding: number[] }, ...] }, one item per input, any order. */
  private parse(body: Buffer, count: number): Float32Array[] {
    const bad = (what: string): EmbeddingError => new EmbeddingError('embedding_malformed', `embeddings endpoint ${this.origin} sent ${what}`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw bad('an answer that is not JSON');
    }
    const data = (parsed as { data?: unknown } | null)?.data;
    if (!Array.isArray(data)) throw bad("an answer without a 'data' list");
    if (data.length !== count) throw bad(`${data.length} embeddings for ${count} inputs`);
    const out: Float32Array[] = new Array<Float32Array>(count);
    data.forEach((item: unknown, position) => {
      const { index, embedding } = (item ?? {}) as { index?: unknown; embedding?: unknown };
      const at = index === undefined ? position : index;
      if (!Number.isInteger(at) || (at as number) < 0 || (at as number) >= count || out[at as number]) throw bad(`a bad or repeated index at data[${position}]`);
      if (!Array.isArray(embedding) || embedding.length === 0) throw bad(`no embedding list at data[${position}]`);
      const vector = new Float32Array(embedding.length);
      for (let i = 0; i < embedding.length; i++) {
        const v = embedding[i] as unknown;
        if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(`a non-numeric value at data[${position}].embedding[${i}]`);
        vector[i] = v;
      }
      this.checkDimension(vector.length);
      out[at as number] = vector;
    });
    return out;
  }

  private checkDimension(length: number): void {
    if (this.dim === undefined) this.dim = length;
    else if (length !== this.dim) {
      throw new EmbeddingError('embedding_dimension_mismatch', `embeddings endpoint ${this.origin} sent ${length}-dimensional vectors, expected ${this.dim}`);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.pool.close();
  }
}

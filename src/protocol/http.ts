/** Small node:http helpers shared by every server of the project (gateway, simulator, stubs). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ApiError, toApiError } from './errors.js';

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/** Reads the whole body, refusing more than `limit` bytes with 413 (the socket is not drained further). */
export function readBody(req: IncomingMessage, limit = DEFAULT_BODY_LIMIT): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.reject(new ApiError('body_too_large', `request body of ${declared} bytes exceeds the limit of ${limit} bytes`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new ApiError('body_too_large', `request body exceeds the limit of ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

/** Reads and parses a JSON object body; malformed JSON or a non-object is a 400 invalid_json. */
export async function readJsonBody(req: IncomingMessage, limit = DEFAULT_BODY_LIMIT): Promise<Record<string, unknown>> {
  const raw = await readBody(req, limit);
  return parseJsonObject(raw);
}

export function parseJsonObject(raw: Buffer | string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch (err) {
    throw new ApiError('invalid_json', `request body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ApiError('invalid_json', 'request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
    ...headers,
  });
  res.end(payload);
}

/** Sends an error as an OpenAI-style JSON body, or, if headers already went out, ends the response. */
export function sendError(res: ServerResponse, err: unknown, headers: Record<string, string> = {}): void {
  const apiError = toApiError(err);
  if (res.headersSent) {
    res.destroy(apiError);
    return;
  }
  sendJson(res, apiError.status, apiError.toBody(), apiError.retryAfterS === undefined ? headers : { 'retry-after': String(Math.ceil(apiError.retryAfterS)), ...headers });
}

/**
 * The socket to which whole HTTP/1.1 chunks (`<hex length>\r\n<data>\r\n`) of this response may be
 * written directly, skipping node:http's per-write framing, once its head has gone out. Null when
 * the answer is not chunked (an HTTP/1.0 client) or does not own its socket yet (a pipelined
 * request waiting its turn): node:http's own path frames and queues those correctly. The end still
 * goes through res.end, which writes the last chunk and keeps the connection's state.
 */
export function chunkSocket(res: ServerResponse): Socket | null {
  return res.chunkedEncoding && res.headersSent && res.socket ? res.socket : null;
}

/**
 * One JSON POST through the project's upstream transport (src/transport, the gateway's own keep-alive
 * client; this file is the embedding tier's only import of it): the whole answer is collected up to a byte
 * cap, and the signal aborts the exchange (which closes its connection, so the server sees the caller leave).
 */
import { createTransport, type TransportRequest, type UpstreamTransport } from '../../transport/index.js';

export type { TransportRequest, UpstreamTransport };

export function createUpstream(origin: string, opts: { connections: number; keepAliveMs: number; connectTimeoutMs: number }): UpstreamTransport {
  return createTransport(origin, opts);
}

export interface PostedAnswer {
  status: number;
  body: Buffer;
}

/** The answer ran past the byte cap. */
export class AnswerTooLarge extends Error {}

/** Rejects with the transport's TransportError, an AnswerTooLarge, or the signal's reason. */
export function postCollect(upstream: UpstreamTransport, request: TransportRequest, maxBytes: number, signal?: AbortSignal): Promise<PostedAnswer> {
  if (signal?.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<PostedAnswer>((resolve, reject) => {
    let status = 0;
    let size = 0;
    let tooLarge: AnswerTooLarge | undefined;
    const chunks: Buffer[] = [];
    const onAbort = (): void => control.abort(signal!.reason instanceof Error ? signal!.reason : new Error(String(signal!.reason)));
    const control = upstream.request(request, {
      onStart(code) {
        status = code;
      },
      onData(data) {
        size += data.length;
        if (size <= maxBytes) chunks.push(data);
        else if (!tooLarge) {
          tooLarge = new AnswerTooLarge(`answer larger than ${maxBytes} bytes`);
          control.abort(tooLarge);
        }
      },
      onEnd() {
        signal?.removeEventListener('abort', onAbort);
        resolve({ status, body: Buffer.concat(chunks) });
      },
      onError(err) {
        signal?.removeEventListener('abort', onAbort);
        reject(signal?.aborted ? (signal.reason as Error) : (tooLarge ?? err));
      },
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

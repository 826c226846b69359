/**
 * The gateway's side facing clients: a cap on open connections (past it a new connection gets a
 * 503 with Retry-After and is closed at once, before any request of it is read), the keep-alive
 * idle timeout and the head timeout, and warnings that are logged once and then rate limited.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { ApiError } from './errors.js';

/** A warning logged on its first occurrence, then at most once per `intervalMs` with the count since. */
export class RateLimitedWarning {
  private lastAt = -Infinity;
  private suppressed = 0;

  constructor(private readonly message: string, private readonly intervalMs = 60_000) {}

  warn(logger: Logger, fields: Record<string, unknown> = {}): void {
    const now = performance.now();
    if (now - this.lastAt < this.intervalMs) {
      this.suppressed++;
      return;
    }
    logger.warn({ ...fields, suppressed_since_last: this.suppressed }, this.message);
    this.lastAt = now;
    this.suppressed = 0;
  }
}

export interface ClientConnectionLimits {
  /** Open connections beyond this are refused. */
  maxConnections: number;
  /** Idle keep-alive connections are closed after this long. */
  keepAliveMs: number;
}

const REFUSAL_BODY = JSON.stringify(new ApiError('too_many_connections', 'the gateway has too many open connections; retry shortly').toBody());
const REFUSAL = Buffer.from(
  'HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\n' +
    `content-length: ${Buffer.byteLength(REFUSAL_BODY)}\r\n\r\n${REFUSAL_BODY}`,
  'latin1',
);

/**
 * Applies the limits to a node:http server. Returns the number of connections open now (for tests
 * and metrics). Refusals are logged through a RateLimitedWarning.
 */
export function limitClientConnections(server: Server, limits: ClientConnectionLimits, logger: Logger): () => number {
  let open = 0;
  const refused = new RateLimitedWarning('client connections refused: at the open connection cap');
  server.keepAliveTimeout = limits.keepAliveMs;
  // A connection that sends no complete head within this long is closed (node checks every second).
  server.headersTimeout = Math.max(limits.keepAliveMs + 1_000, 10_000);
  // Runs before node:http's own listener: a refused socket is paused first, so its request is never read.
  server.prependListener('connection', (socket: Socket) => {
    if (open >= limits.maxConnections) {
      socket.pause();
      socket.on('error', () => {});
      socket.end(REFUSAL);
      socket.setTimeout(1_000, () => socket.destroy());
      refused.warn(logger, { max_connections: limits.maxConnections });
      return;
    }
    open++;
    socket.once('close', () => open--);
  });
  return () => open;
}

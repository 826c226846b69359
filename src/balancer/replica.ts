/**
 * One replica of an expert: a keep-alive transport to its server for traffic, a connection of its
 * own for health probes (never queued behind traffic), its load, its health, its circuit breaker
 * and its outlier state.
 */
import { createTransport, type UpstreamTransport } from '../transport/index.js';
import { CircuitBreaker, type CircuitBreakerOptions, type CircuitState } from './circuit-breaker.js';
import { OutlierState } from './outlier-detector.js';

export interface ReplicaOptions {
  /** Cap on pooled traffic connections (default: unlimited, one per concurrent stream). */
  connections?: number;
  keepAliveMs: number;
  breaker?: CircuitBreakerOptions;
}

export const DEFAULT_BREAKER: CircuitBreakerOptions = { failureThreshold: 5, openMs: 10_000 };

export class Replica {
  readonly url: string;
  readonly transport: UpstreamTransport;
  /** Health probes only: one connection, so a busy replica at its connection cap still answers them. */
  readonly probeTransport: UpstreamTransport;
  readonly breaker: CircuitBreaker;
  readonly outlier = new OutlierState();
  /** Requests sent to it and not yet finished. */
  inFlight = 0;
  /** Takes requests; false after it refused a connection or failed a health check, until a health check sees it again. */
  up = true;
  /** It answered at least once (a health check or a request): the gateway's readiness. */
  answered = false;

  constructor(url: string, opts: ReplicaOptions) {
    this.url = new URL(url).origin;
    // Streams may stay silent for long: the transport has no read timeout; the exchange's timers guard the stream.
    this.transport = createTransport(this.url, { connections: opts.connections, keepAliveMs: opts.keepAliveMs });
    this.probeTransport = createTransport(this.url, { connections: 1, keepAliveMs: opts.keepAliveMs });
    this.breaker = new CircuitBreaker(opts.breaker ?? DEFAULT_BREAKER);
  }

  /** In rotation now: up, its breaker admits a request, not ejected. */
  available(now: number): boolean {
    return this.up && this.breaker.admits(now) && !this.outlier.ejected(now);
  }

  circuit(now: number): CircuitState {
    return this.breaker.state(now);
  }

  markDown(): void {
    this.up = false;
  }

  markUp(): void {
    this.up = true;
    this.answered = true;
  }

  async close(): Promise<void> {
    await Promise.all([this.transport.close(), this.probeTransport.close()]);
  }
}

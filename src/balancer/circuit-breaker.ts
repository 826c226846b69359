/**
 * A circuit breaker for one replica: `failureThreshold` consecutive transport failures (refused,
 * connect timeout, TLS, closed or broken answers) open it; after `openMs` it lets one trial request
 * through (half-open); the trial's success closes it, its failure opens it again.
 */
export interface CircuitBreakerOptions {
  failureThreshold: number;
  openMs: number;
}

export type CircuitState = 'closed' | 'open' | 'half_open';

export const CIRCUIT_STATE_VALUE: Record<CircuitState, number> = { closed: 0, open: 1, half_open: 2 };

export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private current: CircuitState = 'closed';
  private trialInFlight = false;

  constructor(private readonly opts: CircuitBreakerOptions) {}

  /** The state now (an open breaker turns half-open once its open time has passed). */
  state(now: number): CircuitState {
    if (this.current === 'open' && now - this.openedAt >= this.opts.openMs) {
      this.current = 'half_open';
      this.trialInFlight = false;
    }
    return this.current;
  }

  /** A request may go now: closed, or half-open with no trial running. */
  admits(now: number): boolean {
    const s = this.state(now);
    return s === 'closed' || (s === 'half_open' && !this.trialInFlight);
  }

  /** A request was sent through it (in half-open, it is the trial). */
  taken(now: number): void {
    if (this.state(now) === 'half_open') this.trialInFlight = true;
  }

  /** Milliseconds until it admits a trial (0 when it admits now). */
  retryInMs(now: number): number {
    return this.state(now) === 'open' ? Math.max(0, this.opts.openMs - (now - this.openedAt)) : 0;
  }

  success(): void {
    this.failures = 0;
    this.current = 'closed';
    this.trialInFlight = false;
  }

  failure(now: number): void {
    this.failures++;
    if (this.current === 'half_open' || this.failures >= this.opts.failureThreshold) {
      this.current = 'open';
      this.openedAt = now;
      this.trialInFlight = false;
    }
  }

  /** The request ended without saying anything about the replica (the client left, a stale connection). */
  neutral(): void {
    this.trialInFlight = false;
  }
}

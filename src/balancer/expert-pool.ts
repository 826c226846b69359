/** The replicas of one expert, the choice among them, and what each request's outcome says about them. */
import { Admission } from './admission.js';
import type { CircuitBreakerOptions } from './circuit-breaker.js';
import { OutlierDetector, type OutlierOptions } from './outlier-detector.js';
import { Replica, type ReplicaOptions } from './replica.js';

/** Chooses a replica among those in rotation; `exclude` is the one that just failed (for the retry). */
export interface ReplicaPicker {
  pick(replicas: readonly Replica[], now: number, exclude?: Replica): Replica | undefined;
}

/** The available replica with the fewest requests in flight; ties rotate so equal replicas share the load. */
export class LeastInFlightPicker implements ReplicaPicker {
  private next = 0;

  pick(replicas: readonly Replica[], now: number, exclude?: Replica): Replica | undefined {
    const n = replicas.length;
    const start = this.next;
    this.next = (start + 1) % n;
    let best: Replica | undefined;
    for (let i = 0; i < n; i++) {
      const r = replicas[(start + i) % n];
      if (r === exclude || !r.available(now)) continue;
      if (!best || r.inFlight < best.inFlight) best = r;
    }
    return best;
  }
}

/** What one request said about its replica. */
export type ReplicaOutcome =
  /** A 2xx or 4xx answer: the replica works. */
  | 'success'
  /** The transport failed: refused, connect timeout, TLS, closed or broken answer (the circuit breaker counts these). */
  | 'transport_failure'
  /** A 5xx answer or a timeout (outlier detection counts these). */
  | 'server_failure'
  /** Nothing learnt (the client left, a stale keep-alive connection). */
  | 'neutral';

export const DEFAULT_OUTLIER: OutlierOptions = { consecutiveFailures: 5, baseEjectionMs: 30_000, maxEjectionMs: 300_000 };

export interface ExpertPoolOptions extends ReplicaOptions {
  maxConcurrency?: number;
  maxQueue: number;
  /** How long a request may wait for an admission slot (default: no limit). */
  queueWaitMs?: number;
  picker?: ReplicaPicker;
  breaker?: CircuitBreakerOptions;
  outlier?: OutlierOptions;
}

/** A change of a replica's standing that report() made. */
export type ReplicaEvent = 'ejected' | 'circuit_open' | 'circuit_closed';

export class ExpertPool {
  readonly replicas: readonly Replica[];
  readonly admission: Admission | undefined;
  private readonly picker: ReplicaPicker;
  private readonly outliers: OutlierDetector;

  constructor(readonly name: string, endpoints: readonly string[], opts: ExpertPoolOptions) {
    this.replicas = endpoints.map((url) => new Replica(url, opts));
    this.admission = opts.maxConcurrency === undefined ? undefined : new Admission(opts.maxConcurrency, opts.maxQueue, opts.queueWaitMs);
    this.picker = opts.picker ?? new LeastInFlightPicker();
    this.outliers = new OutlierDetector(opts.outlier ?? DEFAULT_OUTLIER);
  }

  /** A replica in rotation for one request (its breaker's half-open trial is taken), or undefined. */
  pick(exclude?: Replica): Replica | undefined {
    const now = performance.now();
    const replica = this.picker.pick(this.replicas, now, exclude);
    replica?.breaker.taken(now);
    return replica;
  }

  /** Whether the replica is chosen by pick() now, without taking anything (for /v1/route). */
  preview(): Replica | undefined {
    return this.picker.pick(this.replicas, performance.now());
  }

  /** Milliseconds until some replica's breaker admits a request again (0 when none is open). */
  retryAfterMs(): number {
    const now = performance.now();
    const waits = this.replicas.filter((r) => r.up).map((r) => (r.outlier.ejected(now) ? r.outlier.ejectedUntil - now : r.breaker.retryInMs(now)));
    return waits.length === 0 ? 0 : Math.min(...waits);
  }

  /** Every replica that is up is out of rotation by its breaker or by ejection. */
  get circuitOpen(): boolean {
    const now = performance.now();
    return this.replicas.some((r) => r.up) && !this.replicas.some((r) => r.available(now));
  }

  /** Records what one request said about its replica; returns the change it made to the replica's standing, if any. */
  report(replica: Replica, outcome: ReplicaOutcome): ReplicaEvent | undefined {
    const now = performance.now();
    const breaker = replica.breaker;
    const wasOpen = breaker.state(now) !== 'closed';
    switch (outcome) {
      case 'success':
        breaker.success();
        this.outliers.success(replica.outlier, now);
        return wasOpen ? 'circuit_closed' : undefined;
      case 'transport_failure':
        breaker.failure(now);
        return !wasOpen && breaker.state(now) === 'open' ? 'circuit_open' : undefined;
      case 'server_failure':
        breaker.neutral();
        return this.outliers.failure(replica.outlier, this.replicas.filter((r) => r !== replica).map((r) => r.outlier), now) ? 'ejected' : undefined;
      case 'neutral':
        breaker.neutral();
        return undefined;
    }
  }

  /** At least one replica answered once. */
  get ready(): boolean {
    return this.replicas.some((r) => r.answered);
  }

  async close(): Promise<void> {
    await Promise.all(this.replicas.map((r) => r.close()));
  }
}

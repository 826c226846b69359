/** The replicas of one expert and the choice among them. */
import { Admission } from './admission.js';
import { Replica, type ReplicaOptions } from './replica.js';

/** Chooses a replica; `exclude` is the one that just failed (for the retry). */
export interface ReplicaPicker {
  pick(replicas: readonly Replica[], exclude?: Replica): Replica | undefined;
}

/** The healthy replica with the fewest requests in flight; ties rotate so equal replicas share the load. */
export class LeastInFlightPicker implements ReplicaPicker {
  private next = 0;

  pick(replicas: readonly Replica[], exclude?: Replica): Replica | undefined {
    const n = replicas.length;
    const start = this.next;
    this.next = (start + 1) % n;
    let best: Replica | undefined;
    for (let i = 0; i < n; i++) {
      const r = replicas[(start + i) % n];
      if (!r.up || r === exclude) continue;
      if (!best || r.inFlight < best.inFlight) best = r;
    }
    return best;
  }
}

export interface ExpertPoolOptions extends ReplicaOptions {
  maxConcurrency?: number;
  maxQueue: number;
  picker?: ReplicaPicker;
}

export class ExpertPool {
  readonly replicas: readonly Replica[];
  readonly admission: Admission | undefined;
  private readonly picker: ReplicaPicker;

  constructor(readonly name: string, endpoints: readonly string[], opts: ExpertPoolOptions) {
    this.replicas = endpoints.map((url) => new Replica(url, opts));
    this.admission = opts.maxConcurrency === undefined ? undefined : new Admission(opts.maxConcurrency, opts.maxQueue);
    this.picker = opts.picker ?? new LeastInFlightPicker();
  }

  pick(exclude?: Replica): Replica | undefined {
    return this.picker.pick(this.replicas, exclude);
  }

  /** At least one replica answered once. */
  get ready(): boolean {
    return this.replicas.some((r) => r.answered);
  }

  async close(): Promise<void> {
    await Promise.all(this.replicas.map((r) => r.close()));
  }
}

/**
 * Passive ejection as Envoy's outlier detection does it: `consecutiveFailures` 5xx answers or
 * timeouts in a row eject a replica for `baseEjectionMs` × the number of times it was ejected
 * (capped at `maxEjectionMs`); an ejection that would leave no replica of the expert in rotation is
 * not made. A success resets the count; each ejection served without a new one lowers the multiplier.
 */
export interface OutlierOptions {
  consecutiveFailures: number;
  baseEjectionMs: number;
  maxEjectionMs: number;
}

export class OutlierState {
  consecutive = 0;
  ejections = 0;
  ejectedUntil = 0;

  ejected(now: number): boolean {
    return now < this.ejectedUntil;
  }
}

export class OutlierDetector {
  constructor(private readonly opts: OutlierOptions) {}

  /** Records a 5xx or timeout; true when the replica is ejected now. `others` are the expert's other replicas' states. */
  failure(state: OutlierState, others: readonly OutlierState[], now: number): boolean {
    state.consecutive++;
    if (state.consecutive < this.opts.consecutiveFailures || state.ejected(now)) return false;
    // Never all of them: at least one other replica must stay in rotation.
    if (!others.some((o) => !o.ejected(now))) return false;
    state.ejections++;
    state.consecutive = 0;
    state.ejectedUntil = now + Math.min(this.opts.maxEjectionMs, this.opts.baseEjectionMs * state.ejections);
    return true;
  }

  success(state: OutlierState, now: number): void {
    state.consecutive = 0;
    // A replica back in rotation that serves well earns its multiplier down again.
    if (state.ejections > 0 && now >= state.ejectedUntil + this.opts.baseEjectionMs) state.ejections--;
  }
}

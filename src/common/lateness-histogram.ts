/**
 * How late timed events ran against their due times (the simulator's token writes against the
 * engine's schedule, the bench stub's writes against their due times): fixed bins, so recording
 * costs no allocation however long a run lasts. An event run early counts as early and lands in the
 * first bin; anything beyond the last bin lands in an overflow bin.
 */
export interface LatenessSummary {
  count: number;
  /** Milliseconds late: p50 and p99 to the bin's upper edge (never above max), max exact. */
  p50: number;
  p99: number;
  max: number;
  /** Events run before their due time. */
  early: number;
}

export class LatenessHistogram {
  private readonly counts: Uint32Array;
  private n = 0;
  private maxMs = 0;
  private earlyCount = 0;

  constructor(private readonly binMs: number, private readonly bins: number) {
    this.counts = new Uint32Array(bins + 1);
  }

  record(lateMs: number): void {
    if (lateMs < 0) this.earlyCount++;
    const late = lateMs > 0 ? lateMs : 0;
    this.counts[Math.min(this.bins, Math.floor(late / this.binMs))]++;
    this.n++;
    if (late > this.maxMs) this.maxMs = late;
  }

  /** The upper edge of the bin holding quantile q; the overflow bin reports the max. */
  quantile(q: number): number {
    if (this.n === 0) return 0;
    const rank = Math.ceil(q * this.n);
    let seen = 0;
    for (let i = 0; i < this.bins; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min((i + 1) * this.binMs, this.maxMs);
    }
    return this.maxMs;
  }

  summary(): LatenessSummary {
    return { count: this.n, p50: this.quantile(0.5), p99: this.quantile(0.99), max: this.maxMs, early: this.earlyCount };
  }

  reset(): void {
    this.counts.fill(0);
    this.n = 0;
    this.maxMs = 0;
    this.earlyCount = 0;
  }
}

/**
 * How late timed events ran against their due times: a fixed-bin histogram (10 µs bins up to 20 ms,
 * the rest in one overflow bin), so recording costs no allocation however long a benchmark runs.
 */
const BIN_MS = 0.01;
const BINS = 2000;

export interface LatenessSummary {
  count: number;
  /** Milliseconds after the due time; p50 and p99 to the bin (10 µs), max exact. */
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
}

export class LatenessHistogram {
  private readonly bins = new Uint32Array(BINS + 1);
  private count = 0;
  private max = 0;

  record(lateMs: number): void {
    const late = Math.max(0, lateMs);
    this.bins[Math.min(BINS, Math.floor(late / BIN_MS))]++;
    this.count++;
    if (late > this.max) this.max = late;
  }

  /** The summary of everything recorded since the last call; starts afresh. */
  take(): LatenessSummary {
    const summary = { count: this.count, p50_ms: this.percentile(50), p99_ms: this.percentile(99), max_ms: Math.round(this.max * 1000) / 1000 };
    this.bins.fill(0);
    this.count = 0;
    this.max = 0;
    return summary;
  }

  /** The upper edge of the bin holding the percentile (the overflow bin reports the max). */
  private percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.ceil((p / 100) * this.count);
    let seen = 0;
    for (let i = 0; i < BINS; i++) {
      seen += this.bins[i];
      if (seen >= rank) return Math.round((i + 1) * BIN_MS * 1000) / 1000;
    }
    return Math.round(this.max * 1000) / 1000;
  }
}

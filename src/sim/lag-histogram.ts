/** A fixed-resolution histogram of small durations (0.05 ms buckets up to 250 ms), for token lag. */
const RESOLUTION_MS = 0.05;
const BUCKETS = 5000;

export class LagHistogram {
  private counts = new Uint32Array(BUCKETS + 1);
  private n = 0;
  private maxMs = 0;
  private earlyCount = 0;

  /** A negative lag (a token written before its scheduled time) counts as early and lands in the first bucket. */
  record(ms: number): void {
    if (ms < 0) this.earlyCount++;
    const v = ms > 0 ? ms : 0;
    this.counts[Math.min(BUCKETS, Math.floor(v / RESOLUTION_MS))]++;
    this.n++;
    if (v > this.maxMs) this.maxMs = v;
  }

  /** The value below which a fraction q of the samples fall (upper edge of its bucket). */
  quantile(q: number): number {
    if (this.n === 0) return 0;
    const rank = Math.ceil(q * this.n);
    let seen = 0;
    for (let i = 0; i <= BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min((i + 1) * RESOLUTION_MS, this.maxMs);
    }
    return this.maxMs;
  }

  summary(): { count: number; p50: number; p99: number; max: number; early: number } {
    return { count: this.n, p50: this.quantile(0.5), p99: this.quantile(0.99), max: this.maxMs, early: this.earlyCount };
  }

  reset(): void {
    this.counts.fill(0);
    this.n = 0;
    this.maxMs = 0;
    this.earlyCount = 0;
  }
}

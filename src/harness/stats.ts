/** Distribution summaries over HDR histograms: the percentiles every latency figure reports. */
import { build } from 'hdr-histogram-js';

export interface Stats {
  count: number;
  /** Null when there is no sample. */
  mean: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

/** Values are recorded in microseconds so sub-millisecond differences survive the integer histogram. */
const UNITS_PER_MS = 1000;

export const EMPTY_STATS: Stats = { count: 0, mean: null, p50: null, p90: null, p99: null, max: null };

/**
 * Mean and max are exact; the percentiles come from an HDR histogram with three significant digits
 * (relative error at most 0.1%), which keeps memory flat however many samples a level holds.
 */
export function summarize(valuesMs: readonly number[]): Stats {
  if (valuesMs.length === 0) return { ...EMPTY_STATS };
  const histogram = build({ numberOfSignificantValueDigits: 3 });
  let sum = 0;
  let max = -Infinity;
  for (const v of valuesMs) {
    sum += v;
    if (v > max) max = v;
    histogram.recordValue(Math.max(0, Math.round(v * UNITS_PER_MS)));
  }
  // A histogram bucket reports its upper edge; clamp so that no percentile exceeds the exact max.
  const at = (p: number): number => round3(Math.min(max, histogram.getValueAtPercentile(p) / UNITS_PER_MS));
  const stats: Stats = {
    count: valuesMs.length,
    mean: round3(sum / valuesMs.length),
    p50: at(50),
    p90: at(90),
    p99: at(99),
    max: round3(max),
  };
  histogram.destroy();
  return stats;
}

export function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

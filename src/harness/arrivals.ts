/** Open-loop arrival processes and closed-loop think times, drawn from a seeded generator. */
import type { Rng } from '../common/rng.js';
import type { ThinkTime } from './types.js';
import { HarnessError } from './errors.js';

export type ArrivalKind = 'constant' | 'poisson';

/**
 * Successive arrival offsets (ms from the level's start) at `ratePerS`: evenly spaced, or with
 * exponential gaps (a Poisson process). The first arrival is at 0 for constant, after one gap for Poisson.
 */
export function arrivalSchedule(kind: ArrivalKind, ratePerS: number, rng: Rng): () => number {
  const meanGapMs = 1000 / ratePerS;
  let i = 0;
  let t = 0;
  return kind === 'constant'
    ? () => i++ * meanGapMs
    : () => (t += rng.exponential(meanGapMs));
}

/** The first `count` arrivals, or every arrival before `untilMs`, whichever ends first. */
export function arrivalTimes(kind: ArrivalKind, ratePerS: number, rng: Rng, limit: { count?: number; untilMs?: number }): number[] {
  const next = arrivalSchedule(kind, ratePerS, rng);
  const out: number[] = [];
  for (;;) {
    if (limit.count !== undefined && out.length >= limit.count) return out;
    const t = next();
    if (limit.untilMs !== undefined && t >= limit.untilMs) return out;
    if (limit.count === undefined && limit.untilMs === undefined) throw new HarnessError('invalid_option', 'arrivalTimes needs a count or an end');
    out.push(t);
  }
}

export function drawThinkTime(think: ThinkTime | undefined, rng: Rng): number {
  if (!think) return 0;
  return think.kind === 'fixed' ? think.ms : rng.exponential(think.meanMs);
}

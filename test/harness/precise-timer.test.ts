import { afterEach, describe, expect, it } from 'vitest';
import { now, PreciseTimer } from '../../benchmarks/lib/precise-timer.js';
import { LatenessHistogram } from '../../src/common/lateness-histogram.js';
import { takeLateness } from '../../benchmarks/lib/openai-stub.js';

let timer: PreciseTimer | undefined;
afterEach(async () => {
  await timer?.close();
  timer = undefined;
});

describe('the bench precise timer', () => {
  it('runs every callback, in deadline order, never before its deadline', async () => {
    timer = new PreciseTimer();
    const t = timer;
    const start = now();
    // Deliberately out of order, with ties and one deadline already past.
    const offsets = [7.3, 1.2, 4.05, 1.2, 0.4, 12.9, 3.3, -1, 9.75, 2.2];
    const ran: Array<{ index: number; due: number; at: number }> = [];
    await new Promise<void>((resolve) => {
      offsets.forEach((offset, index) => {
        const due = start + offset;
        t.at(due, () => {
          ran.push({ index, due, at: now() });
          if (ran.length === offsets.length) resolve();
        });
      });
    });
    const expected = offsets.map((o, i) => ({ o, i })).sort((a, b) => a.o - b.o || a.i - b.i).map((x) => x.i);
    expect(ran.map((r) => r.index)).toEqual(expected);
    for (const r of ran) expect(r.at).toBeGreaterThanOrEqual(r.due);
  });

  it('keeps deadlines set from inside a callback, and skips cancelled ones', async () => {
    timer = new PreciseTimer();
    const t = timer;
    const seen: string[] = [];
    const cancelled = t.after(2, () => seen.push('cancelled'));
    cancelled.cancel();
    await new Promise<void>((resolve) => {
      let due = now() + 1;
      let n = 0;
      const tick = (): void => {
        seen.push(`tick ${n}`);
        if (++n === 5) return resolve();
        due += 0.5;
        t.at(due, tick);
      };
      t.at(due, tick);
    });
    await new Promise<void>((resolve) => t.after(3, resolve));
    expect(seen).toEqual(['tick 0', 'tick 1', 'tick 2', 'tick 3', 'tick 4']);
  });
});

describe('the lateness histogram', () => {
  it('summarises what was recorded since the last take, to the 10 µs bin', () => {
    const h = new LatenessHistogram(0.01, 2000);
    for (const ms of [0.004, 0.012, 0.015, 0.05, -0.2, 30]) h.record(ms);
    expect(takeLateness(h)).toEqual({ count: 6, p50_ms: 0.02, p99_ms: 30, max_ms: 30 });
    expect(takeLateness(h)).toEqual({ count: 0, p50_ms: 0, p99_ms: 0, max_ms: 0 });
  });
});

/**
 * Runs deliveries at their times on a clock, in the order they were queued, never before their time.
 * The engine announces a step's tokens together at the step's end, each with the time its output loop
 * hands it out (up to a few milliseconds later); a real-time server queues every write here, so one
 * timer per server paces them instead of one per token. Deliveries fall due every few microseconds
 * while a step's output loop runs, so the pacer waits on coarse timers (see RealClock.scheduleCoarse):
 * a delivery runs up to about a millisecond late, in a batch with its neighbours, instead of the
 * process spinning through every output loop.
 */
import type { RealClock } from './clock.js';

export class Pacer {
  private times: number[] = [];
  private runs: (() => void)[] = [];
  private head = 0;
  private armed = false;

  constructor(private readonly clock: Pick<RealClock, 'now' | 'scheduleCoarse'>) {}

  /** Runs `run` at `atMs` or, when an earlier-queued delivery is later than that, right after it. */
  at(atMs: number, run: () => void): void {
    this.times.push(atMs);
    this.runs.push(run);
    if (!this.armed) this.arm();
  }

  private arm(): void {
    this.armed = true;
    this.clock.scheduleCoarse(this.times[this.head], this.drain);
  }

  // `armed` stays true while draining, so a delivery queued by a run waits for this drain's re-arm.
  private readonly drain = (): void => {
    const { times, runs } = this;
    let now = this.clock.now();
    while (this.head < times.length) {
      // Deliveries that fell due while earlier ones were written go out in this same drain.
      if (times[this.head] > now && times[this.head] > (now = this.clock.now())) break;
      const run = runs[this.head];
      this.head++;
      run();
    }
    this.armed = false;
    if (this.head === times.length) {
      times.length = runs.length = this.head = 0;
    } else {
      if (this.head > 1024) {
        times.splice(0, this.head);
        runs.splice(0, this.head);
        this.head = 0;
      }
      this.arm();
    }
  };
}

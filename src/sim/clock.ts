/**
 * Time for the simulator. One interface, two clocks: VirtualClock jumps from event to event as fast
 * as the CPU allows (several engines and a load driver can share one); RealClock follows the wall
 * clock with timers, for serving HTTP.
 */
import { performance } from 'node:perf_hooks';

export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the clock's origin. */
  now(): number;
  /** Runs fn at time atMs (or as soon as possible when atMs is in the past). Same-time events run in scheduling order. */
  schedule(atMs: number, fn: () => void): Timer;
}

interface VirtualEvent {
  at: number;
  order: number;
  fn: (() => void) | undefined;
}

/** Discrete-event clock: a binary min-heap of events ordered by (time, scheduling order). */
export class VirtualClock implements Clock {
  private heap: VirtualEvent[] = [];
  private time: number;
  private counter = 0;

  constructor(startMs = 0) {
    this.time = startMs;
  }

  now(): number {
    return this.time;
  }

  schedule(atMs: number, fn: () => void): Timer {
    const event: VirtualEvent = { at: Math.max(atMs, this.time), order: this.counter++, fn };
    this.push(event);
    return { cancel: () => { event.fn = undefined; } };
  }

  /** Runs events up to and including time `untilMs`, then sets the clock to `untilMs`. Returns the events run. */
  runUntil(untilMs: number): number {
    let ran = 0;
    while (this.heap.length > 0 && this.heap[0].at <= untilMs) {
      ran += this.step();
    }
    if (untilMs > this.time) this.time = untilMs;
    return ran;
  }

  /** Runs every event, including those events schedule, until none is left (or maxEvents ran). */
  run(maxEvents = Number.POSITIVE_INFINITY): number {
    let ran = 0;
    while (this.heap.length > 0 && ran < maxEvents) ran += this.step();
    return ran;
  }

  private step(): number {
    const event = this.pop();
    this.time = event.at;
    const fn = event.fn;
    if (!fn) return 0;
    event.fn = undefined;
    fn();
    return 1;
  }

  private push(event: VirtualEvent): void {
    const heap = this.heap;
    let i = heap.length;
    heap.push(event);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(event, heap[parent])) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = event;
  }

  private pop(): VirtualEvent {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop() as VirtualEvent;
    if (heap.length > 0) {
      let i = 0;
      const n = heap.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const child = r < n && before(heap[r], heap[l]) ? r : l;
        if (!before(heap[child], last)) break;
        heap[i] = heap[child];
        i = child;
      }
      heap[i] = last;
    }
    return top;
  }
}

function before(a: VirtualEvent, b: VirtualEvent): boolean {
  return a.at < b.at || (a.at === b.at && a.order < b.order);
}

/**
 * How close to an event's time the real clock stops trusting timers and checks the time on every
 * turn of the event loop instead.
 */
const SPIN_MS = 1;

/**
 * Wall-clock time with timers; now() is milliseconds since the clock was made.
 *
 * Node's timers are too coarse to schedule tokens by: they count from the event loop's cached
 * millisecond time, so a timer set at the end of a long callback fires early by as long as that
 * callback ran, and otherwise up to a millisecond late. So an event never runs before its time:
 * timers bring it within SPIN_MS of it, then setImmediate checks the clock on every turn of the
 * event loop (I/O still runs in between) until the time has come.
 */
export class RealClock implements Clock {
  private readonly origin = performance.now();

  now(): number {
    return performance.now() - this.origin;
  }

  schedule(atMs: number, fn: () => void): Timer {
    let timeout: NodeJS.Timeout | undefined;
    let immediate: NodeJS.Immediate | undefined;
    const check = (): void => {
      timeout = immediate = undefined;
      const wait = atMs - this.now();
      if (wait <= 0) fn();
      else if (wait > SPIN_MS) timeout = setTimeout(check, wait - SPIN_MS);
      else immediate = setImmediate(check);
    };
    // Even an event already due runs after the caller returns, never inside it.
    immediate = setImmediate(check);
    return {
      cancel: () => {
        clearTimeout(timeout);
        clearImmediate(immediate);
      },
    };
  }

  /**
   * Like schedule, but waits on timers alone, never checking the clock turn after turn: fn runs up
   * to about a millisecond after atMs (never before), and an idle process stays idle meanwhile. For
   * events so dense that spinning before each would keep a core busy.
   */
  scheduleCoarse(atMs: number, fn: () => void): void {
    const check = (): void => {
      const wait = atMs - this.now();
      if (wait <= 0) fn();
      else setTimeout(check, wait);
    };
    setImmediate(check);
  }
}

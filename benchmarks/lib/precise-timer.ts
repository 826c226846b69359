/**
 * Sub-millisecond timers for the bench stub, without spinning. Node's timers are millisecond-grained
 * and fire up to a millisecond late (libuv rounds, and measures from the loop's cached time). Here
 * the main thread keeps the deadlines in order and publishes the earliest few in shared memory; a
 * worker thread sleeps in Atomics.wait (a futex wait with a sub-millisecond timeout) until the next
 * one and then posts a message, which wakes the main loop at once. The main thread then runs every
 * callback that is due, in deadline order, never early.
 *
 * Cost: one worker wake and one main-loop wake per batch of deadlines that fall due together. The
 * worker does not wait for the main thread's answer: it sleeps on to the next published deadline,
 * and the main thread wakes it only when a new deadline comes before the one it sleeps until.
 *
 * Times are milliseconds on the monotonic clock (`now()`), the same clock in both threads.
 */
import { Worker } from 'node:worker_threads';

/** Milliseconds on the monotonic clock shared by all threads of the process. */
export function now(): number {
  const [s, ns] = process.hrtime();
  return s * 1e3 + ns / 1e6;
}

/** How many of the earliest deadlines the worker sees. */
const PUBLISHED = 8;

// Shared memory. Int32 [0] a sequence number: odd while the main thread writes the deadlines, bumped
// on every publish (the worker waits on it); [1] the count of published deadlines; [2] set to end
// the worker. Float64 [2] the deadline the worker sleeps until (Infinity: none, it waits for a
// publish); [3 ...] the published deadlines, earliest first.
const INT32S = 4;
const TARGET = 2;
const DEADLINES = 3;

const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const ints = new Int32Array(workerData, 0, ${INT32S});
const floats = new Float64Array(workerData);
const now = () => { const [s, ns] = process.hrtime(); return s * 1e3 + ns / 1e6; };
// Deadlines up to here have been signalled: the main thread runs them all when the message arrives.
let signalled = -Infinity;
for (;;) {
  if (Atomics.load(ints, 2) !== 0) break;
  const seq = Atomics.load(ints, 0);
  if (seq & 1) {
    Atomics.wait(ints, 0, seq, 0.05); // the main thread is writing: read again once it is done
    continue;
  }
  let next = Infinity;
  const count = ints[1];
  for (let i = 0; i < count; i++) {
    const d = floats[${DEADLINES} + i];
    if (d > signalled) { next = d; break; }
  }
  if (Atomics.load(ints, 0) !== seq) continue; // written meanwhile: read again
  const t = now();
  if (next > t) {
    floats[${TARGET}] = next;
    Atomics.wait(ints, 0, seq, Number.isFinite(next) ? next - t : undefined);
    continue;
  }
  signalled = t;
  parentPort.postMessage(0);
}
`;

export interface PreciseTimeout {
  /** Stops the callback from running (a no-op once it has run). */
  cancel(): void;
}

/** Callbacks at deadlines on `now()`'s clock: a PreciseTimer, or Node's own timers (coarseTimer). */
export interface DeadlineTimer {
  at(due: number, fn: () => void): PreciseTimeout;
  close(): Promise<void>;
}

/**
 * Node's timers behind the same interface: up to a millisecond off (early too: Node counts from
 * the loop's cached time), but at most one loop wake per millisecond, where the PreciseTimer costs
 * a thread wake per deadline (tens of µs of CPU each on a virtual machine).
 */
export function coarseTimer(): DeadlineTimer {
  return {
    at(due, fn) {
      const t = setTimeout(fn, Math.max(0, due - now()));
      return { cancel: () => clearTimeout(t) };
    },
    close: () => Promise.resolve(),
  };
}

interface Entry {
  due: number;
  /** Insertion order: equal deadlines run in the order they were set. */
  order: number;
  fn: () => void;
  cancelled: boolean;
}

/** Whether `a` runs after `b`. */
function later(a: Entry, b: Entry): boolean {
  return a.due > b.due || (a.due === b.due && a.order > b.order);
}

export class PreciseTimer implements DeadlineTimer {
  /** Pending entries, latest first: the earliest is popped from the end. */
  private readonly queue: Entry[] = [];
  private readonly ints: Int32Array;
  private readonly floats: Float64Array;
  private readonly worker: Worker;
  private nextOrder = 0;
  private immediate: NodeJS.Immediate | undefined;
  private closed = false;

  constructor() {
    const shared = new SharedArrayBuffer(Float64Array.BYTES_PER_ELEMENT * (DEADLINES + PUBLISHED));
    this.ints = new Int32Array(shared, 0, INT32S);
    this.floats = new Float64Array(shared);
    this.floats[TARGET] = Infinity;
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: shared });
    this.worker.on('message', () => this.runDue());
    // Pending timers keep the process alive the way Node's timers do; an empty timer does not.
    this.worker.unref();
  }

  /** Runs `fn` at `due` (milliseconds on `now()`'s clock), or as soon as possible if that has passed. */
  at(due: number, fn: () => void): PreciseTimeout {
    if (this.closed) throw new Error('the precise timer is closed');
    const entry: Entry = { due, order: this.nextOrder++, fn, cancelled: false };
    const q = this.queue;
    // Binary search for the first entry that runs before this one; insert it there.
    let lo = 0;
    let hi = q.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (later(q[mid], entry)) lo = mid + 1;
      else hi = mid;
    }
    q.splice(lo, 0, entry);
    if (due <= now()) {
      // The worker may already have signalled past this deadline: run it from this loop.
      this.immediate ??= setImmediate(() => this.runDue());
    } else if (q.length - lo <= PUBLISHED) {
      this.publish();
    }
    // A cancelled entry stays queued until its deadline (the worker may wake once for nothing).
    return { cancel: () => void (entry.cancelled = true) };
  }

  /** Runs `fn` after `ms` milliseconds. */
  after(ms: number, fn: () => void): PreciseTimeout {
    return this.at(now() + ms, fn);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    if (this.immediate) clearImmediate(this.immediate);
    Atomics.store(this.ints, 2, 1);
    Atomics.add(this.ints, 0, 2);
    Atomics.notify(this.ints, 0);
    await this.worker.terminate();
  }

  private runDue(): void {
    this.immediate = undefined;
    if (this.closed) return;
    const q = this.queue;
    let ran = false;
    // Callbacks take time (a socket write each): look at the clock again after each one, so a
    // deadline that falls due meanwhile runs in this batch rather than waiting for another message.
    while (q.length > 0 && q[q.length - 1].due <= now()) {
      const entry = q.pop() as Entry;
      ran = true;
      if (!entry.cancelled) entry.fn();
    }
    if (ran) this.publish();
  }

  /** Shares the earliest deadlines with the worker; wakes it if the first comes before its sleep. */
  private publish(): void {
    const q = this.queue;
    const count = Math.min(PUBLISHED, q.length);
    Atomics.add(this.ints, 0, 1); // odd: writing
    for (let i = 0; i < count; i++) this.floats[DEADLINES + i] = q[q.length - 1 - i].due;
    this.ints[1] = count;
    Atomics.add(this.ints, 0, 1); // even: done; a worker that read the old deadlines reads again
    if (count > 0 && q[q.length - 1].due < this.floats[TARGET]) Atomics.notify(this.ints, 0);
    // Keep the process alive while a timer is pending, as a Node timer would.
    if (q.length > 0) this.worker.ref();
    else this.worker.unref();
  }
}

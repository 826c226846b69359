/** Caps the requests in flight to an expert; the excess waits in a bounded FIFO queue. */
import { ApiError } from '../protocol/index.js';

interface Waiter {
  resolve(): void;
  reject(err: ApiError): void;
}

export class Admission {
  private active = 0;
  private readonly queue: Waiter[] = [];

  constructor(readonly limit: number, readonly maxQueue: number) {}

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** True when a slot was free and is now taken (the hot path, no promise). */
  tryAcquire(): boolean {
    if (this.active >= this.limit) return false;
    this.active++;
    return true;
  }

  /** Waits for a slot; the signal takes the request out of the queue; a full queue answers 429. */
  wait(signal: AbortSignal): Promise<void> {
    if (this.queue.length >= this.maxQueue) {
      return Promise.reject(new ApiError('overloaded', `expert is at its max_concurrency of ${this.limit} and its queue is full`));
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
        reject,
      };
      const onAbort = (): void => {
        const at = this.queue.indexOf(waiter);
        if (at !== -1) this.queue.splice(at, 1);
        reject(new ApiError('internal_error', 'client went away while queued'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  release(): void {
    const next = this.queue.shift();
    // The slot passes straight to the next waiter, so active stays the same.
    if (next) next.resolve();
    else this.active--;
  }
}

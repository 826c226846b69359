/**
 * Caps the requests in flight to an expert; the excess waits in a bounded FIFO queue, at most
 * `maxWaitMs`. A full queue answers 429 `overloaded`, a wait past the limit 503 `queue_timeout`,
 * both with Retry-After; a client that leaves the queue is `client_closed`.
 */
import { ApiError } from '../protocol/index.js';

interface Waiter {
  resolve(): void;
  reject(err: ApiError): void;
}

/** Retry-After on the admission's own refusals: about the time a slot takes to come free. */
const RETRY_AFTER_S = 1;

export class Admission {
  private active = 0;
  private readonly queue: Waiter[] = [];

  constructor(readonly limit: number, readonly maxQueue: number, readonly maxWaitMs?: number) {}

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
      return Promise.reject(new ApiError('overloaded', `expert is at its max_concurrency of ${this.limit} and its queue is full`, { retryAfterS: RETRY_AFTER_S }));
    }
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const leave = (err: ApiError): void => {
        const at = this.queue.indexOf(waiter);
        if (at !== -1) this.queue.splice(at, 1);
        signal.removeEventListener('abort', onAbort);
        clearTimeout(timer);
        reject(err);
      };
      const waiter: Waiter = {
        resolve: () => {
          signal.removeEventListener('abort', onAbort);
          clearTimeout(timer);
          resolve();
        },
        reject: leave,
      };
      const onAbort = (): void => leave(new ApiError('client_closed', 'client went away while queued'));
      signal.addEventListener('abort', onAbort, { once: true });
      if (this.maxWaitMs !== undefined) {
        timer = setTimeout(() => leave(new ApiError('queue_timeout', `expert is at its max_concurrency of ${this.limit} and no slot came free within ${this.maxWaitMs} ms`, { retryAfterS: RETRY_AFTER_S })), this.maxWaitMs);
      }
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

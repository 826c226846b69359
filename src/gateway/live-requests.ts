/** The requests in progress, and a promise for the moment there are none (the drain waits on it). */
import type { RequestContext } from './request-context.js';

export class LiveRequests {
  private readonly live = new Set<RequestContext>();
  private waiters: (() => void)[] = [];

  get size(): number {
    return this.live.size;
  }

  add(rc: RequestContext): void {
    this.live.add(rc);
  }

  delete(rc: RequestContext): void {
    if (!this.live.delete(rc) || this.live.size > 0 || this.waiters.length === 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }

  /** A copy, so that ending requests while iterating is safe. */
  values(): RequestContext[] {
    return [...this.live];
  }

  whenEmpty(): Promise<void> {
    if (this.live.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

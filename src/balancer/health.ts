/**
 * Periodic health checks: every replica is probed with a GET of its protocol's health path over the
 * replica's own probe connection (never queued behind traffic); any HTTP answer below 500 means up.
 * A replica marked down by a refused connection comes back here.
 */
import type { ExpertPool } from './expert-pool.js';
import type { Replica } from './replica.js';

export interface HealthCheckOptions {
  intervalMs: number;
  timeoutMs: number;
  /** Called when a replica changes state (for logs and metrics). */
  onChange?: (pool: ExpertPool, replica: Replica, up: boolean) => void;
}

const PROBE_HEADERS: Record<string, string> = { accept: '*/*' };

/** GETs the health path on the probe connection; any answer below 500 within the timeout means up. */
export function probe(replica: Replica, path: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let status = 0;
    const control = replica.probeTransport.request({ method: 'GET', path, headers: PROBE_HEADERS }, {
      onStart: (s) => (status = s),
      onData: () => {},
      onEnd: () => {
        clearTimeout(timer);
        resolve(status < 500);
      },
      onError: () => {
        clearTimeout(timer);
        resolve(false);
      },
    });
    const timer = setTimeout(() => control.abort(new Error(`health check timed out after ${timeoutMs} ms`)), timeoutMs);
  });
}

export class HealthChecker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly pools: readonly { pool: ExpertPool; healthPath: string }[], private readonly opts: HealthCheckOptions) {}

  /** Probes every replica once now, then every interval. */
  start(): Promise<void> {
    const first = this.checkAll();
    this.timer = setInterval(() => void this.checkAll(), this.opts.intervalMs);
    this.timer.unref();
    return first;
  }

  checkAll(): Promise<void> {
    // One round at a time: a slow round is not stacked on by the next tick.
    this.running ??= this.round().finally(() => (this.running = undefined));
    return this.running;
  }

  private async round(): Promise<void> {
    await Promise.all(this.pools.flatMap(({ pool, healthPath }) => pool.replicas.map(async (replica) => {
      const ok = await probe(replica, healthPath, this.opts.timeoutMs);
      if (ok === replica.up && (!ok || replica.answered)) return;
      if (ok) replica.markUp();
      else replica.markDown();
      this.opts.onChange?.(pool, replica, ok);
    })));
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}

/** The two load models: closed-loop users and open-loop arrivals, each running one level. */
import { Agent, Pool } from 'undici';
import { arrivalSchedule, drawThinkTime } from './arrivals.js';
import { Level, dispatcherOptions, userDispatcher, type RunContext } from './level.js';
import { levelLabel } from './metrics.js';
import { createRng, subSeed, type Rng } from '../common/rng.js';
import type { LoadSpec, RequestRecord } from './types.js';

/**
 * A user whose connection attempts fail (target down) backs off, 100 ms doubling up to 2 s, so an
 * unreachable target yields a bounded number of error records rather than a busy loop.
 */
const CONNECT_FAILURES = new Set(['connect_refused', 'connect_timeout', 'unreachable', 'dns_failure']);
const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 2000;

export async function runClosedLevel(
  ctx: RunContext,
  index: number,
  count: number,
  users: number,
  load: Extract<LoadSpec, { mode: 'closed' }>,
  seed: number,
): Promise<RequestRecord[]> {
  const level = new Level(ctx, index, count, levelLabel({ users }));
  const rampUp = load.rampUpMs ?? 0;
  const user = async (u: number): Promise<void> => {
    const rng: Rng = createRng(subSeed(seed, u));
    await level.sleep((rampUp * u) / users);
    // Each user keeps its own connection, as a real user's client would.
    const client = userDispatcher(ctx);
    let backoff = 0;
    try {
      for (;;) {
        const admitted = level.admit();
        if (!admitted.ok) break;
        const record = await level.send(client, { user: u, warmup: admitted.warmup });
        backoff = CONNECT_FAILURES.has(record.error_kind ?? '') ? Math.min(MAX_BACKOFF_MS, Math.max(MIN_BACKOFF_MS, backoff * 2)) : 0;
        await level.sleep(drawThinkTime(load.thinkTime, rng) + backoff);
      }
    } finally {
      await client.destroy();
    }
  };
  await Promise.all(Array.from({ length: users }, (_, u) => user(u)));
  return level.finish();
}

export async function runOpenLevel(ctx: RunContext, index: number, count: number, rate: number, arrival: 'constant' | 'poisson', seed: number): Promise<RequestRecord[]> {
  const level = new Level(ctx, index, count, levelLabel({ rate }));
  const next = arrivalSchedule(arrival, rate, createRng(seed));
  // No connection limit: a request never waits for a free connection, so arrivals stay open-loop.
  const options = { ...dispatcherOptions(ctx.options), connections: null, pipelining: 1 };
  const pool = ctx.options.route ? new Agent(options) : new Pool(ctx.origin, options);
  const sends: Array<Promise<RequestRecord>> = [];
  try {
    let at = level.start + next();
    for (;;) {
      await level.sleep(at - ctx.clock());
      if (ctx.clock() >= level.stopAt) break;
      // Send every arrival that is due (timers fire late under load; each keeps its scheduled time).
      while (at <= ctx.clock()) {
        const admitted = level.admit();
        if (!admitted.ok) break;
        sends.push(level.send(pool, { scheduled_ms: Math.round(at * 1000) / 1000, warmup: admitted.warmup }));
        at = level.start + next();
      }
    }
    await Promise.all(sends);
  } finally {
    await pool.destroy();
  }
  return level.finish();
}

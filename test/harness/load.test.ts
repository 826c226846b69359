import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arrivalTimes, createRng, runBench, type BenchOptions, type PromptSet } from '../../src/harness/index.js';
import { startMisbehavingServer, type MisbehavingServer } from './misbehaving-server.js';

const prompts: PromptSet = { source: 'test', prompts: [{ text: 'a' }, { text: 'b' }, { text: 'c' }] };

let server: MisbehavingServer;
beforeAll(async () => {
  server = await startMisbehavingServer();
});
afterAll(async () => {
  await server.close();
});

function options(mode: string, extra: Partial<BenchOptions>): BenchOptions {
  return { target: `${server.url}/m/${mode}`, model: 'm', load: { mode: 'closed', users: [1] }, prompts, ...extra };
}

describe('open-loop schedule', () => {
  it('constant arrivals are evenly spaced from the start', () => {
    expect(arrivalTimes('constant', 10, createRng(1), { count: 5 })).toEqual([0, 100, 200, 300, 400]);
    expect(arrivalTimes('constant', 4, createRng(1), { untilMs: 1000 })).toEqual([0, 250, 500, 750]);
  });

  it('Poisson arrivals have exponential gaps of mean 1/rate, reproducible by seed', () => {
    const times = arrivalTimes('poisson', 100, createRng(7), { count: 4000 });
    const gaps = times.map((t, i) => t - (i === 0 ? 0 : times[i - 1]));
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    expect(mean).toBeGreaterThan(9.5);
    expect(mean).toBeLessThan(10.5);
    // Exponential: the share of gaps above the mean is e^-1 (about 0.368).
    const above = gaps.filter((g) => g > 10).length / gaps.length;
    expect(above).toBeGreaterThan(0.34);
    expect(above).toBeLessThan(0.4);
    expect(arrivalTimes('poisson', 100, createRng(7), { count: 50 })).toEqual(times.slice(0, 50));
    expect(arrivalTimes('poisson', 100, createRng(8), { count: 50 })).not.toEqual(times.slice(0, 50));
  });

  it('sends on schedule even when responses are slow, measuring from the scheduled time', async () => {
    // 200 ms responses at 50 req/s: a closed loop would fall behind; an open loop must not.
    const result = await runBench(options('slow', { load: { mode: 'open', rates: [50], arrival: 'constant' }, requests: 8 }));
    const records = result.records;
    expect(records).toHaveLength(8);
    const start = records[0].scheduled_ms as number;
    records.forEach((r, i) => {
      expect(r.status).toBe('ok');
      expect((r.scheduled_ms as number) - start).toBeCloseTo(i * 20, 1);
      expect(r.sent_ms).toBeGreaterThanOrEqual(r.scheduled_ms as number);
      expect(r.ttft_ms).toBeCloseTo(r.sent_ms + r.chunk_times_ms[0] - (r.scheduled_ms as number), 2);
      expect(r.ttft_ms).toBeGreaterThanOrEqual(195);
    });
    const level = result.levels[0];
    expect(level).toMatchObject({ mode: 'open', rate: 50, offered_rate_per_s: 50, requests: 8 });
    // Punctual sends: the client never waited for a connection.
    expect(level.send_lag_ms?.max).toBeLessThan(100);
  });
});

describe('closed loop', () => {
  it('excludes the warm-up from the figures and keeps its records', async () => {
    const result = await runBench(options('ok', { warmupMs: 150, durationMs: 250 }));
    const warm = result.records.filter((r) => r.warmup);
    const measured = result.records.filter((r) => !r.warmup);
    expect(warm.length).toBeGreaterThan(0);
    expect(measured.length).toBeGreaterThan(0);
    const firstMeasured = Math.min(...measured.map((r) => r.sent_ms));
    expect(Math.max(...warm.map((r) => r.sent_ms))).toBeLessThan(firstMeasured);
    const level = result.levels[0];
    expect(level.requests).toBe(measured.length);
    expect(level.warmup_requests).toBe(warm.length);
    expect(level.window?.start_ms).toBe(firstMeasured);
  });

  it('--requests N sends exactly N measured requests per level, for each level of a sweep', async () => {
    const result = await runBench(options('ok', { load: { mode: 'closed', users: [1, 3] }, requests: 7, warmupMs: 30 }));
    expect(result.levels.map((l) => l.requests)).toEqual([7, 7]);
    expect(result.levels.map((l) => l.users)).toEqual([1, 3]);
    const users = new Set(result.records.filter((r) => r.level === 1).map((r) => r.user));
    expect(users.size).toBe(3);
  });

  it('think time spaces a user\u2019s requests; ramp-up staggers the users\u2019 starts', async () => {
    const think = await runBench(options('ok', { load: { mode: 'closed', users: [1], thinkTime: { kind: 'fixed', ms: 60 } }, requests: 3 }));
    const sends = think.records.map((r) => r.sent_ms);
    for (let i = 1; i < sends.length; i++) expect(sends[i] - think.records[i - 1].end_ms).toBeGreaterThanOrEqual(55);

    const ramp = await runBench(options('ok', { load: { mode: 'closed', users: [4], rampUpMs: 300 }, durationMs: 400 }));
    const firstByUser = new Map<number, number>();
    for (const r of ramp.records) if (!firstByUser.has(r.user as number)) firstByUser.set(r.user as number, r.sent_ms);
    const first = [0, 1, 2, 3].map((u) => firstByUser.get(u) as number);
    expect(first[3] - first[0]).toBeGreaterThanOrEqual(200); // user 3 starts 225 ms after user 0
  });

  it('reuses one connection per user', async () => {
    const before = server.connections();
    const result = await runBench(options('ok', { load: { mode: 'closed', users: [2] }, requests: 6 }));
    expect(result.levels[0].completed).toBe(6);
    expect(server.connections() - before).toBe(2);
  });

  it('routes on the client when asked: each prompt to its own target, model and expert', async () => {
    const other = await startMisbehavingServer();
    try {
      const result = await runBench(options('counted', {
        load: { mode: 'closed', users: [2] },
        requests: 6,
        route: (prompt) => (prompt.text === 'a'
          ? { target: `${other.url}/m/counted`, model: 'left-model', expert: 'left' }
          : { target: `${server.url}/m/counted`, model: 'right-model', expert: 'right' }),
      }));
      const level = result.levels[0];
      expect(level.completed).toBe(6);
      expect(level.per_expert.left.requests).toBe(2); // prompts a, b, c in turn: a twice in six
      expect(level.per_expert.right.requests).toBe(4);
      expect(other.hits.get('counted')).toBe(2);
    } finally {
      await other.close();
    }
  });

  it('an abort signal ends the run early with what was recorded', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 150);
    const t0 = Date.now();
    const result = await runBench(options('stall', { load: { mode: 'closed', users: [2, 4] }, durationMs: 10_000, stallTimeoutMs: 10_000 }), { signal: controller.signal });
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(result.levels).toHaveLength(1);
    expect(result.levels[0].errors_by_kind).toEqual({ cancelled: 2 });
    expect(result.warnings.join('\n')).toMatch(/interrupted/);
  });
});

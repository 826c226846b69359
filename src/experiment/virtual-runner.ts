/**
 * Runs one load level of a configuration in virtual time: closed-loop users, each prompt routed to its
 * expert's engine (least outstanding replica), all engines sharing one VirtualClock. Produces the same
 * RequestRecords the live harness records, so the one summarizeLevel computes the figures.
 */
import { createRng, subSeed, type InfraSeries, type RequestRecord } from '../harness/index.js';

import { VirtualClock, createEngine, type SimEngine } from '../sim/index.js';
import type { LoadPlan } from './spec.js';
import type { PlannedExpert } from './plan.js';

/** A prompt with what routing decided for it, computed once per prompt set. */
export interface RoutedPrompt {
  promptTokens: number;
  /** Index into the deployment's experts. */
  expert: number;
  cluster: number;
}

export interface VirtualLevelOptions {
  users: number;
  load: LoadPlan;
  seed: number;
  level: number;
  /** Where this level starts on the experiment's continuous infrastructure timeline. */
  timelineOffsetMs: number;
  /** Stop waiting for in-flight requests this long after sending stops (virtual ms). */
  drainLimitMs?: number;
}

export interface VirtualLevelResult {
  records: RequestRecord[];
  infra: InfraSeries[];
  /** Virtual length of the level, warm-up and drain included. */
  elapsedMs: number;
}

/** Deployment-wide gauges named as vLLM names them, sampled every virtual second. */
const INFRA_METRICS = ['vllm:num_requests_running', 'vllm:num_requests_waiting', 'vllm:gpu_cache_usage_perc', 'sim:gpu_utilization'] as const;

const SAMPLE_EVERY_MS = 1000;
const DEFAULT_DRAIN_LIMIT_MS = 600_000;

export function runVirtualLevel(
  experts: readonly PlannedExpert[],
  prompts: readonly RoutedPrompt[],
  opts: VirtualLevelOptions,
): VirtualLevelResult {
  const { users, load, level } = opts;
  const clock = new VirtualClock();
  const pools: SimEngine[][] = experts.map((expert, e) => {
    if (expert.backend.kind !== 'sim') throw new Error(`expert '${expert.name}' has real endpoints: the virtual clock can only run simulated experts`);
    const deployment = expert.backend.deployment;
    return Array.from({ length: expert.backend.replicas }, (_, r) =>
      createEngine(deployment, { clock, seed: subSeed(opts.seed, level, e, r) }),
    );
  });
  const outstanding = pools.map((pool) => new Array<number>(pool.length).fill(0));

  const warmupMs = load.warmup_s * 1000;
  const stopMs = warmupMs + load.duration_s * 1000;
  const rampMs = load.ramp_up_s * 1000;
  const rng = createRng(subSeed(opts.seed, level, 0xfeed));
  const records: RequestRecord[] = [];
  let nextPrompt = Math.floor(rng.next() * prompts.length);
  const open = new Set<RequestRecord>();

  const thinkMs = (): number =>
    load.think_time_ms <= 0 ? 0 : load.think_time === 'exponential' ? rng.exponential(load.think_time_ms) : load.think_time_ms;

  const send = (user: number): void => {
    const now = clock.now();
    if (now >= stopMs) return;
    const prompt = prompts[nextPrompt];
    nextPrompt = (nextPrompt + 1) % prompts.length;
    const pool = pools[prompt.expert];
    const counts = outstanding[prompt.expert];
    let replica = 0;
    for (let r = 1; r < counts.length; r++) if (counts[r] < counts[replica]) replica = r;
    counts[replica]++;
    const record: RequestRecord = {
      id: records.length,
      level,
      user,
      sent_ms: now,
      chunk_times_ms: [],
      end_ms: now,
      output_tokens: 0,
      tokens_source: 'usage',
      prompt_tokens: prompt.promptTokens,
      expert: experts[prompt.expert].name,
      cluster: String(prompt.cluster),
      status: 'ok',
      ...(now < warmupMs ? { warmup: true } : {}),
    };
    records.push(record);
    open.add(record);
    // The engine reports a finish as its step ends, with the time its output loop sends it (atMs).
    const finish = (atMs: number): void => {
      counts[replica]--;
      open.delete(record);
      clock.schedule(Math.max(atMs, clock.now()) + thinkMs(), () => send(user));
    };
    pool[replica].submit(
      { promptTokens: prompt.promptTokens, maxTokens: load.max_tokens, ignoreEos: load.ignore_eos },
      {
        onToken(_count, atMs) {
          record.chunk_times_ms.push(atMs - record.sent_ms);
        },
        onFinish(info) {
          record.end_ms = info.atMs;
          record.output_tokens = info.outputTokens;
          if (record.chunk_times_ms.length > 0) record.ttft_ms = record.chunk_times_ms[0];
          finish(info.atMs);
        },
        onError(err) {
          record.end_ms = clock.now();
          record.status = 'error';
          record.error_kind = 'http_400';
          record.error_message = err.message;
          finish(clock.now());
        },
      },
    );
  };

  for (let u = 0; u < users; u++) {
    const start = users > 1 ? (rampMs * u) / users : 0;
    clock.schedule(start, () => send(u));
  }

  const infra: InfraSeries[] = INFRA_METRICS.map((metric) => ({ target: 'deployment', metric, points: [] }));
  const sample = (): void => {
    recordSample(infra, pools, clock.now() + opts.timelineOffsetMs);
    if (clock.now() < stopMs || open.size > 0) clock.schedule(clock.now() + SAMPLE_EVERY_MS, sample);
  };
  clock.schedule(0, sample);

  clock.runUntil(stopMs);
  const drainLimit = stopMs + (opts.drainLimitMs ?? DEFAULT_DRAIN_LIMIT_MS);
  while (open.size > 0 && clock.now() < drainLimit) clock.runUntil(Math.min(drainLimit, clock.now() + 10_000));
  for (const r of open) {
    // Still in flight when the drain limit ran out: an error, as the live harness counts it.
    r.status = 'error';
    r.error_kind = 'cancelled';
    r.error_message = 'still in flight when the level ended';
    r.end_ms = clock.now();
  }
  return { records, infra, elapsedMs: clock.now() };
}

function recordSample(series: InfraSeries[], pools: SimEngine[][], atMs: number): void {
  let running = 0;
  let waiting = 0;
  let kv = 0;
  let util = 0;
  let engines = 0;
  for (const pool of pools) {
    for (const engine of pool) {
      const s = engine.stats();
      running += s.running;
      waiting += s.waiting;
      kv += s.kvUsage;
      util += s.gpuUtilization;
      engines++;
    }
  }
  const values = [running, waiting, kv / engines, util / engines];
  for (let i = 0; i < series.length; i++) series[i].points.push([atMs, values[i]]);
}

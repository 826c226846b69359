/**
 * runBench: drives a sweep of load levels (closed-loop users or open-loop arrival rates) against
 * one target, records every request and summarises each level with summarizeLevel.
 */
import { request } from 'undici';
import { startHealthMonitor } from './client-health.js';
import type { RunContext } from './level.js';
import { runClosedLevel, runOpenLevel } from './load-models.js';
import { summarizeLevel, type LevelSummary } from './metrics.js';
import { DEFAULT_DURATION_MS, splitTarget, type BenchHooks, type BenchOptions, type BenchResult } from './options.js';
import { protocolAdapter } from './protocols.js';
import { createRng, shuffle, subSeed } from '../common/rng.js';
import { Scraper } from './scrape.js';
import type { RequestRecord } from './types.js';
import { HarnessError } from './errors.js';

async function resolveModel(options: BenchOptions, origin: string, basePath: string, warnings: string[]): Promise<string> {
  if (options.model) return options.model;
  if (options.protocol === 'triton') return 'ensemble';
  try {
    const res = await request(`${origin}${basePath}/v1/models`, { headersTimeout: 5000, bodyTimeout: 5000 });
    const body = (await res.body.json()) as { data?: Array<{ id?: unknown }> };
    const id = body.data?.[0]?.id;
    if (res.statusCode === 200 && typeof id === 'string') return id;
    warnings.push(`GET /v1/models answered ${res.statusCode} without a model: requesting model 'default'`);
  } catch (err) {
    warnings.push(`GET /v1/models failed (${(err as Error).message}): requesting model 'default'`);
  }
  return 'default';
}

export async function runBench(options: BenchOptions, hooks: BenchHooks = {}): Promise<BenchResult> {
  if (options.prompts.prompts.length === 0) throw new HarnessError('invalid_option', 'no prompts to send');
  const levelsList = options.load.mode === 'closed' ? options.load.users : options.load.rates;
  if (levelsList.length === 0) throw new HarnessError('invalid_option', 'no load level given');
  const { origin, basePath } = splitTarget(options.target);
  const seed = options.seed ?? 1;
  const warnings: string[] = [];
  const startedAt = new Date();
  const t0 = performance.now();
  const clock = (): number => performance.now() - t0;
  const model = await resolveModel(options, origin, basePath, warnings);
  const ctx: RunContext = {
    options,
    origin,
    basePath,
    adapter: protocolAdapter(options.protocol ?? 'openai'),
    settings: { model, maxTokens: options.maxTokens, ignoreEos: options.ignoreEos },
    clock,
    order: shuffle(options.prompts.prompts, createRng(subSeed(seed, 0))),
    nextPrompt: 0,
    nextId: 0,
    hooks,
    routedTargets: new Map(),
  };
  const scraper = new Scraper(options.scrape ?? [], clock, options.scrapeIntervalMs);
  scraper.start();
  const records: RequestRecord[] = [];
  const levels: LevelSummary[] = [];
  try {
    for (let i = 0; i < levelsList.length; i++) {
      if (hooks.signal?.aborted) break;
      const value = levelsList[i];
      const health = startHealthMonitor();
      const levelRecords = options.load.mode === 'closed'
        ? await runClosedLevel(ctx, i, levelsList.length, value, options.load, subSeed(seed, 1, i))
        : await runOpenLevel(ctx, i, levelsList.length, value, options.load.arrival, subSeed(seed, 2, i));
      const client = health.stop(levelRecords.length);
      const summary = summarizeLevel(levelRecords, {
        slo: options.slo,
        level: i,
        ...(options.load.mode === 'closed' ? { users: value } : { rate: value }),
        client,
      });
      for (const r of levelRecords) records.push(r); // no spread: a level can hold more records than the stack has room for arguments
      levels.push(summary);
      for (const w of client.warnings) warnings.push(`level ${summary.label}: ${w}`);
      hooks.onLevelDone?.(summary);
    }
  } finally {
    await scraper.stop();
  }
  warnings.push(...scraper.warnings());
  if (hooks.signal?.aborted) warnings.push('the run was interrupted: the last level may be partial');
  return {
    meta: {
      name: options.name ?? `${options.load.mode === 'closed' ? 'users' : 'rate'} sweep`,
      target: options.target,
      protocol: ctx.adapter.name,
      model,
      mode: options.load.mode,
      started_at: startedAt.toISOString(),
      finished_at: new Date().toISOString(),
      seed,
      prompt_source: options.prompts.source,
      prompts: options.prompts.prompts.length,
      settings: settingsOf(options),
    },
    levels,
    records,
    infra: scraper.result(),
    warnings,
  };
}

function settingsOf(o: BenchOptions): Record<string, unknown> {
  return {
    load: o.load,
    duration_ms: o.requests === undefined ? (o.durationMs ?? DEFAULT_DURATION_MS) : null,
    warmup_ms: o.warmupMs ?? 0,
    requests: o.requests ?? null,
    max_tokens: o.maxTokens ?? null,
    ignore_eos: o.ignoreEos ?? false,
    slo: o.slo ?? null,
    scrape: o.scrape ?? [],
    stall_timeout_ms: o.stallTimeoutMs ?? null,
  };
}

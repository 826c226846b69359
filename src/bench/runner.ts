/**
 * runBench: drives a sweep of load levels (closed-loop users or open-loop arrival rates) against
 * one target, records every request and summarises each level with summarizeLevel.
 */
import { Agent, Client, Pool, request, type Dispatcher } from 'undici';
import { arrivalSchedule, drawThinkTime } from './arrivals.js';
import { sendRequest } from './client.js';
import { startHealthMonitor } from './client-health.js';
import { levelLabel, summarizeLevel, type LevelSummary } from './metrics.js';
import type { PromptSet } from './prompts.js';
import { protocolAdapter, type ProtocolAdapter, type RequestSettings } from './protocols.js';
import { createRng, shuffle, subSeed, type Rng } from './rng.js';
import { Scraper, type InfraSeries } from './scrape.js';
import type { LoadSpec, Prompt, Protocol, RequestRecord, Slo } from './types.js';

export interface BenchOptions {
  /** Base URL of the endpoint (the gateway, the simulator, vLLM, Triton); a trailing /v1 is ignored. */
  target: string;
  protocol?: Protocol;
  /** Model name to request; by default the first of /v1/models (openai) or 'ensemble' (triton). */
  model?: string;
  load: LoadSpec;
  /** Measured time per level after the warm-up (default 30 s); ignored when `requests` is set. */
  durationMs?: number;
  /** Warm-up per level: requests sent during it are recorded but excluded from the figures. */
  warmupMs?: number;
  /** Measured requests per level (after the warm-up), instead of a duration. */
  requests?: number;
  prompts: PromptSet;
  maxTokens?: number;
  ignoreEos?: boolean;
  slo?: Slo;
  /** Prometheus endpoints sampled every `scrapeIntervalMs` (default 1 s) for the whole run. */
  scrape?: string[];
  scrapeIntervalMs?: number;
  seed?: number;
  /** A request that receives nothing for this long ends as stall_timeout (default 120 s). */
  stallTimeoutMs?: number;
  /** How long a level waits for its in-flight requests once it stops sending (default 60 s). */
  drainTimeoutMs?: number;
  connectTimeoutMs?: number;
  headers?: Record<string, string>;
  name?: string;
  /**
   * Client-side routing (a baseline that bypasses a gateway): picks each prompt's target base URL,
   * model and, for the records, the expert's name. `target` and `model` above are then the defaults.
   */
  route?: (prompt: Prompt) => RouteChoice;
}

export interface RouteChoice {
  target: string;
  model: string;
  expert?: string;
}

export interface ProgressSnapshot {
  level: number;
  levels: number;
  label: string;
  elapsed_s: number;
  /** Planned length of the level (warm-up included), when it runs for a duration. */
  planned_s: number | null;
  warmup: boolean;
  completed: number;
  errors: number;
  inflight: number;
  /** Over the last progress interval. */
  requests_per_s: number;
  output_tokens_per_s: number;
}

export interface BenchHooks {
  onProgress?(snapshot: ProgressSnapshot): void;
  onLevelDone?(summary: LevelSummary): void;
  /** Aborting ends the current level at once (in-flight requests are cancelled) and skips the rest. */
  signal?: AbortSignal;
  progressIntervalMs?: number;
}

export interface RunMeta {
  name: string;
  target: string;
  protocol: Protocol;
  model: string;
  mode: 'closed' | 'open';
  started_at: string;
  finished_at: string;
  seed: number;
  prompt_source: string;
  prompts: number;
  settings: Record<string, unknown>;
}

export interface BenchResult {
  meta: RunMeta;
  levels: LevelSummary[];
  records: RequestRecord[];
  infra: InfraSeries[];
  warnings: string[];
}

interface RunContext {
  options: BenchOptions;
  origin: string;
  basePath: string;
  adapter: ProtocolAdapter;
  settings: RequestSettings;
  clock: () => number;
  order: Prompt[];
  nextPrompt: number;
  nextId: number;
  hooks: BenchHooks;
}

const DEFAULT_DURATION_MS = 30_000;

export function splitTarget(target: string): { origin: string; basePath: string } {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new Error(`target '${target}' is not a URL (example: http://127.0.0.1:8000)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`target '${target}' must be http:// or https://`);
  const basePath = url.pathname.replace(/\/+$/, '').replace(/\/v1$/, '');
  return { origin: url.origin, basePath };
}

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
  if (options.prompts.prompts.length === 0) throw new Error('no prompts to send');
  const levelsList = options.load.mode === 'closed' ? options.load.users : options.load.rates;
  if (levelsList.length === 0) throw new Error('no load level given');
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
      records.push(...levelRecords);
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

function dispatcherOptions(o: BenchOptions): Client.Options {
  const stall = o.stallTimeoutMs ?? 120_000;
  return { headersTimeout: stall, bodyTimeout: stall, connect: { timeout: o.connectTimeoutMs ?? 10_000 }, keepAliveTimeout: 60_000 };
}

const splitCache = new Map<string, { origin: string; basePath: string }>();

function routeOf(ctx: RunContext, prompt: Prompt): { origin: string; basePath: string; model: string; expert?: string } {
  const choice = (ctx.options.route as (p: Prompt) => RouteChoice)(prompt);
  let split = splitCache.get(choice.target);
  if (!split) splitCache.set(choice.target, (split = splitTarget(choice.target)));
  return { ...split, model: choice.model, ...(choice.expert !== undefined ? { expert: choice.expert } : {}) };
}

/** A user's connection(s): one Client to the target, or an Agent with one connection per routed target. */
function userDispatcher(ctx: RunContext): Dispatcher {
  const opts = { ...dispatcherOptions(ctx.options), pipelining: 1 };
  return ctx.options.route ? new Agent({ ...opts, connections: 1 }) : new Client(ctx.origin, opts);
}

/** The per-level bookkeeping both load modes share: budget, progress, drain and cancellation. */
class Level {
  readonly records: RequestRecord[] = [];
  readonly inflight = new Set<() => void>();
  readonly start: number;
  readonly warmupEnd: number;
  /** Run-clock time after which nothing new is sent (Infinity in --requests mode). */
  stopAt: number;
  measuredSent = 0;
  private stopping = false;
  private completed = 0;
  private errors = 0;
  private tokens = 0;
  private lastTick = { at: 0, completed: 0, tokens: 0 };
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly stopWaiters = new Set<() => void>();
  private readonly onAbort = (): void => this.abort();

  constructor(readonly ctx: RunContext, readonly index: number, readonly count: number, readonly label: string) {
    const o = ctx.options;
    this.start = ctx.clock();
    this.warmupEnd = this.start + (o.warmupMs ?? 0);
    this.stopAt = o.requests === undefined ? this.warmupEnd + (o.durationMs ?? DEFAULT_DURATION_MS) : Infinity;
    this.lastTick.at = this.start;
    const interval = ctx.hooks.progressIntervalMs ?? 1000;
    if (ctx.hooks.onProgress) this.timers.push(setInterval(() => this.progress(), interval));
    if (Number.isFinite(this.stopAt)) this.timers.push(setTimeout(() => this.stopSending(), this.stopAt - this.start));
    ctx.hooks.signal?.addEventListener('abort', this.onAbort);
  }

  /** Whether a request may be sent now, and whether it is a warm-up one; counts measured sends. */
  admit(): { ok: boolean; warmup: boolean } {
    const now = this.ctx.clock();
    if (now >= this.stopAt) return { ok: false, warmup: false };
    const warmup = now < this.warmupEnd;
    if (!warmup && this.ctx.options.requests !== undefined) {
      if (this.measuredSent >= this.ctx.options.requests) return { ok: false, warmup };
      this.measuredSent++;
      if (this.measuredSent === this.ctx.options.requests) this.stopSending();
    }
    return { ok: true, warmup };
  }

  prompt(): Prompt {
    const order = this.ctx.order;
    return order[this.ctx.nextPrompt++ % order.length];
  }

  async send(dispatcher: Dispatcher, extra: { user?: number; scheduled_ms?: number; warmup: boolean }): Promise<RequestRecord> {
    const ctx = this.ctx;
    const prompt = this.prompt();
    const routed = ctx.options.route ? routeOf(ctx, prompt) : undefined;
    const record = await sendRequest({
      dispatcher,
      origin: routed?.origin ?? ctx.origin,
      basePath: routed?.basePath ?? ctx.basePath,
      adapter: ctx.adapter,
      settings: routed ? { ...ctx.settings, model: routed.model } : ctx.settings,
      expert: routed?.expert,
      prompt,
      headers: ctx.options.headers,
      id: ctx.nextId++,
      level: this.index,
      clock: ctx.clock,
      inflight: this.inflight,
      ...extra,
    });
    this.records.push(record);
    if (record.status === 'ok') {
      this.completed++;
      this.tokens += record.output_tokens;
    } else {
      this.errors++;
    }
    return record;
  }

  /** Sleeps up to `ms`, waking early when the level stops sending. */
  sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.ctx.clock() >= this.stopAt) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.stopWaiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.stopWaiters.add(wake);
    });
  }

  stopSending(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.stopAt = Math.min(this.stopAt, this.ctx.clock());
    for (const wake of [...this.stopWaiters]) wake();
    const drain = this.ctx.options.drainTimeoutMs ?? 60_000;
    this.timers.push(setTimeout(() => this.cancelInflight(), drain));
  }

  abort(): void {
    this.stopSending();
    this.cancelInflight();
  }

  private cancelInflight(): void {
    for (const cancel of [...this.inflight]) cancel();
  }

  finish(): RequestRecord[] {
    for (const t of this.timers) clearTimeout(t);
    this.ctx.hooks.signal?.removeEventListener('abort', this.onAbort);
    this.progress();
    return this.records.sort((a, b) => a.id - b.id);
  }

  private progress(): void {
    const onProgress = this.ctx.hooks.onProgress;
    if (!onProgress) return;
    const now = this.ctx.clock();
    const dt = (now - this.lastTick.at) / 1000;
    const o = this.ctx.options;
    onProgress({
      level: this.index,
      levels: this.count,
      label: this.label,
      elapsed_s: (now - this.start) / 1000,
      planned_s: o.requests === undefined ? ((o.warmupMs ?? 0) + (o.durationMs ?? DEFAULT_DURATION_MS)) / 1000 : null,
      warmup: now < this.warmupEnd,
      completed: this.completed,
      errors: this.errors,
      inflight: this.inflight.size,
      requests_per_s: dt > 0 ? (this.completed - this.lastTick.completed) / dt : 0,
      output_tokens_per_s: dt > 0 ? (this.tokens - this.lastTick.tokens) / dt : 0,
    });
    this.lastTick = { at: now, completed: this.completed, tokens: this.tokens };
  }
}

/**
 * A user whose connection attempts fail (target down) backs off, 100 ms doubling up to 2 s, so an
 * unreachable target yields a bounded number of error records rather than a busy loop.
 */
const CONNECT_FAILURES = new Set(['connect_refused', 'connect_timeout', 'unreachable', 'dns_failure']);
const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 2000;

async function runClosedLevel(
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

async function runOpenLevel(ctx: RunContext, index: number, count: number, rate: number, arrival: 'constant' | 'poisson', seed: number): Promise<RequestRecord[]> {
  const level = new Level(ctx, index, count, levelLabel({ rate }));
  const next = arrivalSchedule(arrival, rate, createRng(seed));
  // No connection limit: a request never waits for a free connection, so arrivals stay open-loop.
  const options = { ...dispatcherOptions(ctx.options), connections: null, pipelining: 1 };
  const pool = ctx.options.route ? new Agent(options) : new Pool(ctx.origin, options);
  const sends: Array<Promise<void>> = [];
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

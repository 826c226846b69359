/** One load level's machinery shared by both load modes: the run context, connections, and the Level bookkeeping. */
import { Agent, Client, type Dispatcher } from 'undici';
import { sendRequest } from './client.js';
import { DEFAULT_DURATION_MS, splitTarget, type BenchHooks, type BenchOptions, type RouteChoice } from './options.js';
import type { ProtocolAdapter, RequestSettings } from './protocols.js';
import type { Prompt, RequestRecord } from './types.js';

export interface RunContext {
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
  /** Parsed targets of client-side routing, by URL. */
  routedTargets: Map<string, { origin: string; basePath: string }>;
}

export function dispatcherOptions(o: BenchOptions): Client.Options {
  const stall = o.stallTimeoutMs ?? 120_000;
  return { headersTimeout: stall, bodyTimeout: stall, connect: { timeout: o.connectTimeoutMs ?? 10_000 }, keepAliveTimeout: 60_000 };
}

function routeOf(ctx: RunContext, prompt: Prompt): { origin: string; basePath: string; model: string; expert?: string } {
  const choice = (ctx.options.route as (p: Prompt) => RouteChoice)(prompt);
  let split = ctx.routedTargets.get(choice.target);
  if (!split) ctx.routedTargets.set(choice.target, (split = splitTarget(choice.target)));
  return { ...split, model: choice.model, ...(choice.expert !== undefined ? { expert: choice.expert } : {}) };
}

/** A user's connection(s): one Client to the target, or an Agent with one connection per routed target. */
export function userDispatcher(ctx: RunContext): Dispatcher {
  const opts = { ...dispatcherOptions(ctx.options), pipelining: 1 };
  return ctx.options.route ? new Agent({ ...opts, connections: 1 }) : new Client(ctx.origin, opts);
}

/** The per-level bookkeeping both load modes share: budget, progress, drain and cancellation. */
export class Level {
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

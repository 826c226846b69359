/**
 * The simulated inference engine: iteration-level (continuous) batching as vLLM's scheduler does it.
 * Each step first serves the running sequences in admission order (a decode token each, or the next
 * prefill chunk), preempting the latest-admitted sequence (recompute) when KV blocks run out; then,
 * if nothing was preempted, admits waiting requests in FIFO order while max_num_seqs,
 * max_num_batched_tokens and free blocks allow. A step lasts what the roofline step model says;
 * every sequence that completes its known tokens in a step samples one new token at the step's end,
 * and the output loop hands those tokens out one per-sequence overhead apart from there.
 */
import type { Clock } from './clock.js';
import { SimError } from './errors.js';
import { KvCache } from './kv-cache.js';
import { DEFAULT_OUTPUT_LENGTH, targetOutputTokens, type OutputLengthDistribution } from './output-length.js';
import { createStepModel, type StepLoad, type StepModel } from './perf-model.js';
import type { Deployment } from './profiles.js';
import { createRng, type Rng } from '../common/rng.js';

export interface SimRequest {
  promptTokens: number;
  maxTokens: number;
  /** Generate exactly maxTokens; otherwise the length is drawn from the engine's distribution. */
  ignoreEos?: boolean;
}

export type FinishReason = 'stop' | 'length' | 'cancelled';

export interface FinishInfo {
  outputTokens: number;
  atMs: number;
  reason: FinishReason;
}

export interface TokenListener {
  /**
   * `count` new tokens leave the engine at engine time `atMs`. A step announces its tokens at its end,
   * so `atMs` may lie ahead of the clock by up to the step's output loop (see finishStep); a real-time
   * server delivers each at its time.
   */
  onToken(count: number, atMs: number): void;
  onFinish(info: FinishInfo): void;
  onError?(err: Error): void;
}

export interface SubmitHandle {
  /** Drops the request (waiting or running) and frees its KV blocks at once. */
  cancel(): void;
}

export interface SimEngineStats {
  running: number;
  waiting: number;
  /** Fraction of KV blocks in use, 0..1. */
  kvUsage: number;
  kvBlocksUsed: number;
  kvBlocksTotal: number;
  /** Busy fraction of the GPU over the last second or so (exponentially weighted), 0..1. */
  gpuUtilization: number;
  /** Total time spent in steps, ms: (busyMs difference) / (nowMs difference) is the mean utilisation of a window. */
  busyMs: number;
  nowMs: number;
  promptTokens: number;
  generationTokens: number;
  requestsAdmitted: number;
  requestsFinished: number;
  requestsCancelled: number;
  preemptions: number;
  steps: number;
  /** Real time only: times the process fell over 50 ms behind the schedule and the engine re-anchored. */
  scheduleSlips: number;
}

export interface EngineOptions {
  clock: Clock;
  seed?: number;
  maxNumSeqs?: number;
  maxNumBatchedTokens?: number;
  outputLength?: OutputLengthDistribution;
  /**
   * false: vLLM v0.4's default scheduler, before chunked prefill: a step that can start waiting
   * prompts runs only their whole prefills and the running sequences wait, otherwise it decodes; an
   * admission leaves 1% of the KV blocks free. Default true.
   */
  chunkedPrefill?: boolean;
}

export interface SimEngine {
  readonly deployment: Deployment;
  readonly clock: Clock;
  readonly maxNumSeqs: number;
  readonly maxNumBatchedTokens: number;
  submit(req: SimRequest, listener: TokenListener): SubmitHandle;
  stats(): SimEngineStats;
}

const WAITING = 0;
const RUNNING = 1;
const DONE = 2;
const UTILIZATION_WINDOW_MS = 1000;
/** Real time only: how far the process may fall behind the schedule before the engine re-anchors. */
const MAX_SCHEDULE_DEBT_MS = 50;

interface Seq {
  prompt: number;
  maxTokens: number;
  target: number;
  generated: number;
  /** Tokens whose KV is in the cache. */
  computed: number;
  blocks: number;
  /** Tokens scheduled in the current step. */
  pending: number;
  state: number;
  admittedOnce: boolean;
  listener: TokenListener;
}

/** FIFO with cheap push, shift and unshift (preempted sequences go back to the front). */
class SeqQueue {
  private items: Seq[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  peek(): Seq | undefined {
    return this.items[this.head];
  }

  push(s: Seq): void {
    this.items.push(s);
  }

  shift(): Seq | undefined {
    const s = this.items[this.head];
    if (s === undefined) return undefined;
    this.items[this.head++] = undefined as unknown as Seq;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return s;
  }

  unshift(s: Seq): void {
    if (this.head > 0) this.items[--this.head] = s;
    else this.items.unshift(s);
  }
}

/** Output tokens the context length leaves to a sequence: hitting it ends with reason 'length'. */
function room(d: Deployment, s: Seq): number {
  return d.contextLength - s.prompt;
}

export function createEngine(deployment: Deployment, options: EngineOptions): SimEngine {
  return new ContinuousBatchingEngine(deployment, options);
}

class ContinuousBatchingEngine implements SimEngine {
  readonly clock: Clock;
  readonly maxNumSeqs: number;
  readonly maxNumBatchedTokens: number;
  private readonly chunkedPrefill: boolean;
  /** Blocks an admission must leave free (vLLM v0.4: 1% of the cache, so running sequences can grow). */
  private readonly admissionWatermark: number;
  private readonly kv: KvCache;
  private readonly stepModel: StepModel;
  private readonly rng: Rng;
  private readonly outputLength: OutputLengthDistribution;
  private readonly waiting = new SeqQueue();
  private waitingCount = 0;
  private running: Seq[] = [];
  private idle = true;
  private readonly load: StepLoad = { decodeSeqs: 0, decodeContext: 0, prefillSeqs: 0, prefillTokens: 0, prefillAttention: 0, prefillContext: 0 };
  private stepStart = 0;
  private stepEnd = 0;
  private lastUtilAt = 0;
  private util = 0;
  private busyMs = 0;
  private counters = { promptTokens: 0, generationTokens: 0, admitted: 0, finished: 0, cancelled: 0, preemptions: 0, steps: 0, scheduleSlips: 0 };

  constructor(readonly deployment: Deployment, options: EngineOptions) {
    this.clock = options.clock;
    this.maxNumSeqs = options.maxNumSeqs ?? deployment.engine.max_num_seqs;
    this.chunkedPrefill = options.chunkedPrefill ?? true;
    // vLLM without chunked prefill defaults the budget to max(max_model_len, 2048) so any prompt fits.
    const defaultBudget = this.chunkedPrefill ? deployment.engine.max_num_batched_tokens : Math.max(deployment.contextLength, 2048);
    this.maxNumBatchedTokens = options.maxNumBatchedTokens ?? defaultBudget;
    if (!Number.isInteger(this.maxNumSeqs) || this.maxNumSeqs < 1) throw new SimError('bad_config', `maxNumSeqs must be a positive integer, got ${this.maxNumSeqs}`);
    if (!Number.isInteger(this.maxNumBatchedTokens) || this.maxNumBatchedTokens < 1) {
      throw new SimError('bad_config', `maxNumBatchedTokens must be a positive integer, got ${this.maxNumBatchedTokens}`);
    }
    if (!this.chunkedPrefill && this.maxNumBatchedTokens < deployment.contextLength) {
      throw new SimError('bad_config', `without chunked prefill maxNumBatchedTokens (${this.maxNumBatchedTokens}) must hold a whole context of ${deployment.contextLength} tokens`);
    }
    this.kv = new KvCache(deployment.kvBlocks);
    this.admissionWatermark = this.chunkedPrefill ? 0 : Math.floor(0.01 * deployment.kvBlocks);
    this.stepModel = createStepModel(deployment);
    this.rng = createRng(options.seed ?? 1);
    this.outputLength = options.outputLength ?? DEFAULT_OUTPUT_LENGTH;
    this.lastUtilAt = this.clock.now();
  }

  submit(req: SimRequest, listener: TokenListener): SubmitHandle {
    const { promptTokens, maxTokens } = req;
    if (!Number.isInteger(promptTokens) || promptTokens < 1) throw new SimError('bad_request', `promptTokens must be a positive integer, got ${promptTokens}`);
    if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new SimError('bad_request', `maxTokens must be a positive integer, got ${maxTokens}`);
    const room = this.deployment.contextLength - promptTokens;
    if (room < 1) {
      throw new SimError('bad_request', `prompt of ${promptTokens} tokens leaves no room in the context length of ${this.deployment.contextLength}`);
    }
    const target = Math.min(room, targetOutputTokens(maxTokens, req.ignoreEos === true, this.outputLength, this.rng));
    const seq: Seq = { prompt: promptTokens, maxTokens, target, generated: 0, computed: 0, blocks: 0, pending: 0, state: WAITING, admittedOnce: false, listener };
    this.waiting.push(seq);
    this.waitingCount++;
    if (this.idle) {
      this.idle = false;
      this.clock.schedule(this.clock.now(), this.startStep);
    }
    return { cancel: () => this.cancel(seq) };
  }

  stats(): SimEngineStats {
    const now = this.clock.now();
    const c = this.counters;
    return {
      running: this.running.length,
      waiting: this.waitingCount,
      kvUsage: this.kv.usage,
      kvBlocksUsed: this.kv.usedBlocks,
      kvBlocksTotal: this.kv.totalBlocks,
      gpuUtilization: this.utilizationAt(now),
      busyMs: this.busyMs,
      nowMs: now,
      promptTokens: c.promptTokens,
      generationTokens: c.generationTokens,
      requestsAdmitted: c.admitted,
      requestsFinished: c.finished,
      requestsCancelled: c.cancelled,
      preemptions: c.preemptions,
      steps: c.steps,
      scheduleSlips: c.scheduleSlips,
    };
  }

  private cancel(seq: Seq): void {
    if (seq.state === DONE) return;
    if (seq.state === WAITING) this.waitingCount--;
    this.kv.release(seq.blocks);
    seq.blocks = 0;
    seq.state = DONE;
    this.counters.cancelled++;
    seq.listener.onFinish({ outputTokens: seq.generated, atMs: this.clock.now(), reason: 'cancelled' });
  }

  private readonly startStep = (): void => {
    this.beginStep(this.clock.now());
  };

  /**
   * Plans and starts one step at time `at`. Back-to-back steps start at the previous step's scheduled
   * end, not at the time its timer fired, so a late timer (real time) delays delivery but never the
   * engine's own schedule: token times stay exact and the lag is measurable.
   */
  private beginStep(at: number): void {
    const load = this.load;
    load.decodeSeqs = load.decodeContext = load.prefillSeqs = load.prefillTokens = load.prefillAttention = load.prefillContext = 0;
    let budget = this.maxNumBatchedTokens;
    let preempted = false;
    const running = this.running;
    // Without chunked prefill, waiting prompts go first, in a step of their own.
    if (!this.chunkedPrefill) budget = this.admit(budget);
    const prefillOnly = load.prefillSeqs > 0;
    for (let i = 0; i < running.length && budget > 0 && !prefillOnly; i++) {
      const s = running[i];
      const n = Math.min(s.prompt + s.generated - s.computed, budget);
      const needed = KvCache.blocksFor(s.computed + n) - s.blocks;
      while (needed > this.kv.freeBlocks) {
        const victim = running.pop() as Seq;
        this.preempt(victim);
        preempted = true;
        if (victim === s) break;
      }
      if (s.state !== RUNNING) break;
      this.kv.tryAllocate(needed);
      s.blocks += needed;
      this.schedule(s, n);
      budget -= n;
    }
    // Like vLLM, no admission in a step that preempted, unless the step would otherwise be empty.
    if (this.chunkedPrefill && (!preempted || load.decodeSeqs + load.prefillSeqs === 0)) this.admit(budget);
    if (load.decodeSeqs + load.prefillSeqs === 0) {
      // Nothing could run (only cancelled requests were left): sleep until the next submit.
      this.idle = true;
      return;
    }
    this.noteIdle(at);
    this.stepStart = at;
    this.stepEnd = at + this.stepModel.stepMs(load);
    this.counters.steps++;
    this.clock.schedule(this.stepEnd, this.finishStep);
  }

  /**
   * Admits waiting requests in FIFO order while max_num_seqs, the token budget and free blocks allow
   * (a whole prompt must fit the budget without chunked prefill); returns the budget left.
   */
  private admit(budget: number): number {
    const running = this.running;
    while (budget > 0 && running.length < this.maxNumSeqs && this.waitingCount > 0) {
      const s = this.waiting.peek() as Seq;
      if (s.state === DONE) {
        this.waiting.shift();
        continue;
      }
      if (!this.chunkedPrefill && s.prompt + s.generated > budget) break;
      const n = Math.min(s.prompt + s.generated, budget);
      const needed = KvCache.blocksFor(n);
      if (needed + this.admissionWatermark > this.kv.freeBlocks || !this.kv.tryAllocate(needed)) break;
      this.waiting.shift();
      this.waitingCount--;
      s.blocks = needed;
      s.state = RUNNING;
      if (!s.admittedOnce) {
        s.admittedOnce = true;
        this.counters.admitted++;
        this.counters.promptTokens += s.prompt;
      }
      running.push(s);
      this.schedule(s, n);
      budget -= n;
    }
    return budget;
  }

  private schedule(s: Seq, n: number): void {
    s.pending = n;
    const load = this.load;
    if (s.computed === s.prompt + s.generated - 1 && n === 1 && s.generated > 0) {
      load.decodeSeqs++;
      load.decodeContext += s.computed + 1;
    } else {
      load.prefillSeqs++;
      load.prefillTokens += n;
      load.prefillAttention += n * s.computed + (n * (n + 1)) / 2;
      load.prefillContext += s.computed;
    }
  }

  private preempt(s: Seq): void {
    this.kv.release(s.blocks);
    s.blocks = 0;
    s.computed = 0;
    s.pending = 0;
    s.state = WAITING;
    this.waiting.unshift(s);
    this.waitingCount++;
    this.counters.preemptions++;
  }

  private readonly finishStep = (): void => {
    const now = this.stepEnd;
    this.noteBusy(now);
    const running = this.running;
    const n = running.length;
    // The output loop hands the step's tokens out in batch order, one per-sequence overhead apart,
    // while the GPU runs the next step (vLLM's async output processing, TensorRT-LLM's executor):
    // a step's tokens do not all leave at one instant, and the last leaves before the next step ends.
    const outputGapMs = this.deployment.engine.per_seq_overhead_us / 1e3;
    let at = now;
    for (let i = 0; i < n; i++) {
      const s = running[i];
      if (s.pending === 0 || s.state !== RUNNING) continue;
      s.computed += s.pending;
      s.pending = 0;
      if (s.computed !== s.prompt + s.generated) continue;
      s.generated++;
      this.counters.generationTokens++;
      s.listener.onToken(1, at);
      if (s.generated >= s.target && s.state === RUNNING) {
        s.state = DONE;
        this.kv.release(s.blocks);
        s.blocks = 0;
        this.counters.finished++;
        s.listener.onFinish({ outputTokens: s.generated, atMs: at, reason: s.generated < s.maxTokens && s.generated < room(this.deployment, s) ? 'stop' : 'length' });
      }
      at += outputGapMs;
    }
    let w = 0;
    for (let i = 0; i < running.length; i++) if (running[i].state === RUNNING) running[w++] = running[i];
    running.length = w;
    if (w > 0 || this.waitingCount > 0) {
      // A CPU-starved process (real time) re-anchors to the wall clock instead of bursting a backlog
      // of stale tokens: the simulated GPU looks slower, which is what a client of a slow server sees.
      const wall = this.clock.now();
      if (wall - now > MAX_SCHEDULE_DEBT_MS) {
        this.counters.scheduleSlips++;
        this.beginStep(wall);
      } else {
        this.beginStep(now);
      }
    } else {
      this.idle = true;
    }
  };

  private noteBusy(now: number): void {
    const dt = now - this.stepStart;
    this.busyMs += dt;
    this.decayUtil(now, 1);
  }

  private noteIdle(now: number): void {
    this.decayUtil(now, 0);
  }

  /** Exponentially weighted busy fraction: the interval since the last update was busy (1) or idle (0). */
  private decayUtil(now: number, busy: number): void {
    const dt = now - this.lastUtilAt;
    if (dt <= 0) return;
    const keep = Math.exp(-dt / UTILIZATION_WINDOW_MS);
    this.util = this.util * keep + busy * (1 - keep);
    this.lastUtilAt = now;
  }

  private utilizationAt(now: number): number {
    const dt = now - this.lastUtilAt;
    if (dt <= 0) return this.util;
    const keep = Math.exp(-dt / UTILIZATION_WINDOW_MS);
    return this.util * keep + (this.idle ? 0 : 1) * (1 - keep);
  }
}

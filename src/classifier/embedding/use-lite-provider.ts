/**
 * The in-process provider: Universal Sentence Encoder lite in a pool of worker threads, so embedding
 * (20-140 ms of CPU a prompt) never runs on the caller's event loop. Each worker embeds one batch at a
 * time; batches wait in a bounded FIFO queue, and a full queue rejects at once (embedding_overloaded).
 * An aborted batch leaves the queue, or, when already running, is answered by its signal's reason while
 * its worker finishes and discards the result. A worker that dies is not restarted: its batch fails,
 * and when none is left every call fails with embedding_worker_failed.
 */
import { Worker } from 'node:worker_threads';
import { EmbeddingError } from './errors.js';
import type { EmbeddingProvider } from './types.js';
import type { EmbedRequest, WorkerMessage } from './use-lite-worker.js';

export const USE_LITE_NAME = 'use-lite';
export const USE_LITE_MODEL = 'universal-sentence-encoder-lite';
export const USE_LITE_DIMENSION = 512;

export interface UseLiteOptions {
  /** Worker threads, each with its own copy of the model (about 200 MB; default 1). */
  workers?: number;
  /** Batches that may wait for a worker (default 64). */
  maxQueue?: number;
}

interface Job {
  id: number;
  texts: string[];
  resolve(vectors: Float32Array[]): void;
  reject(err: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  alive: boolean;
  job: Job | undefined;
}

/**
 * The worker: compiled JavaScript next to this file; from the sources (tsx, vitest) a small bootstrap that
 * registers tsx's loader in the worker and then imports the TypeScript file.
 */
function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./use-lite-worker.js', import.meta.url));
  const entry = JSON.stringify(new URL('./use-lite-worker.ts', import.meta.url).href);
  return new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${entry}); });`, { eval: true });
}

export class UseLiteProvider implements EmbeddingProvider {
  readonly name = USE_LITE_NAME;
  readonly dimension = USE_LITE_DIMENSION;
  /** Resolves when every worker has loaded the model; rejects with embedding_worker_failed if one cannot. */
  readonly ready: Promise<void>;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private readonly maxQueue: number;
  private nextId = 1;
  private closed = false;

  constructor(opts: UseLiteOptions = {}) {
    const workers = opts.workers ?? 1;
    this.maxQueue = opts.maxQueue ?? 64;
    if (!Number.isInteger(workers) || workers < 1) throw new EmbeddingError('invalid_option', `workers must be a positive integer, got ${workers}`);
    if (!Number.isInteger(this.maxQueue) || this.maxQueue < 0) throw new EmbeddingError('invalid_option', `max_queue must be a non-negative integer, got ${this.maxQueue}`);
    const starts: Promise<void>[] = [];
    for (let i = 0; i < workers; i++) {
      const slot: Slot = { worker: startWorker(), ready: false, alive: true, job: undefined };
      this.slots.push(slot);
      starts.push(new Promise<void>((resolve, reject) => {
        slot.worker.on('message', (message: WorkerMessage) => {
          if (message.type === 'ready') {
            slot.ready = true;
            resolve();
            this.dispatch();
          } else if (message.type === 'failed') {
            reject(new EmbeddingError('embedding_worker_failed', `the in-process embedding model failed to load: ${message.message}`));
            void slot.worker.terminate();
          } else this.settle(slot, message);
        });
        slot.worker.on('error', (err) => reject(new EmbeddingError('embedding_worker_failed', `embedding worker failed: ${err.message}`, { cause: err })));
        slot.worker.on('exit', (code) => {
          reject(new EmbeddingError('embedding_worker_failed', `embedding worker exited with code ${code} before the model loaded`));
          this.lost(slot, code);
        });
      }));
    }
    this.ready = Promise.all(starts).then(() => undefined);
    // A load failure is reported through ready and through every call; it must not be an unhandled rejection.
    this.ready.catch(() => undefined);
  }

  embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]> {
    if (this.closed) return Promise.reject(new EmbeddingError('embedding_closed', 'the in-process embedding provider is closed'));
    if (!this.slots.some((s) => s.alive)) return Promise.reject(new EmbeddingError('embedding_worker_failed', 'no embedding worker is running'));
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (texts.length === 0) return Promise.resolve([]);
    const idle = this.slots.some((s) => s.ready && s.alive && !s.job);
    if (!idle && this.queue.length >= this.maxQueue) {
      return Promise.reject(new EmbeddingError('embedding_overloaded', `the embedding queue is full (${this.maxQueue} batches waiting)`));
    }
    return new Promise<Float32Array[]>((resolve, reject) => {
      const job: Job = { id: this.nextId++, texts: [...texts], resolve, reject, signal, onAbort: undefined };
      if (signal) {
        job.onAbort = () => {
          const at = this.queue.indexOf(job);
          if (at !== -1) this.queue.splice(at, 1);
          this.finish(job);
          reject(signal.reason);
        };
        signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.queue.push(job);
      this.dispatch();
    });
  }

  /** Batches waiting for a worker. */
  get queued(): number {
    return this.queue.length;
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (!slot.ready || !slot.alive || slot.job) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      const request: EmbedRequest = { id: job.id, texts: job.texts };
      slot.worker.postMessage(request);
    }
  }

  private settle(slot: Slot, message: WorkerMessage): void {
    const job = slot.job;
    slot.job = undefined;
    this.dispatch();
    if (!job || (message.type !== 'result' && message.type !== 'error') || message.id !== job.id) return;
    // Aborted while running: its promise was already answered.
    if (job.signal?.aborted) return;
    this.finish(job);
    if (message.type === 'error') {
      job.reject(new EmbeddingError('embedding_worker_failed', `the in-process embedding model failed: ${message.message}`));
      return;
    }
    const dim = this.dimension;
    if (message.vectors.length !== job.texts.length * dim) {
      job.reject(new EmbeddingError('embedding_dimension_mismatch', `the embedding worker answered ${message.vectors.length} values for ${job.texts.length} texts of ${dim}`));
      return;
    }
    job.resolve(job.texts.map((_, i) => message.vectors.subarray(i * dim, (i + 1) * dim)));
  }

  private finish(job: Job): void {
    if (job.onAbort) job.signal?.removeEventListener('abort', job.onAbort);
  }

  private lost(slot: Slot, code: number): void {
    slot.alive = false;
    const job = slot.job;
    slot.job = undefined;
    if (job && !job.signal?.aborted) {
      this.finish(job);
      job.reject(new EmbeddingError(this.closed ? 'embedding_closed' : 'embedding_worker_failed', `embedding worker exited with code ${code}`));
    }
    if (!this.slots.some((s) => s.alive)) {
      for (const queued of this.queue.splice(0)) {
        this.finish(queued);
        queued.reject(new EmbeddingError(this.closed ? 'embedding_closed' : 'embedding_worker_failed', 'no embedding worker is running'));
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}

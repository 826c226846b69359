/**
 * One request's run on the engine, shared by both protocols: the job a validated request asks for,
 * the faults drawn for it, and the delivery of its tokens and finish to a protocol's emitter.
 */
import type { ServerResponse } from 'node:http';
import { ApiError } from '../../protocol/index.js';
import type { FinishInfo, SubmitHandle } from '../engine.js';
import { nextPiece, pieceText } from '../text.js';
import { countPromptTokens } from '../tokenizer.js';
import type { RequestContext } from './context.js';

/** What a request asks of the engine, after validation. */
export interface Job {
  promptTokens: number;
  maxTokens: number;
  ignoreEos: boolean;
}

/** `addBos`: plain-text prompts get <|begin_of_text|> added, as vLLM's tokenizer does (chat templates carry it). */
export function planJob(ctx: RequestContext, promptText: string, maxTokens: number | undefined, ignoreEos: boolean | undefined, param: string, addBos: boolean): Job {
  const promptTokens = countPromptTokens(promptText) + (addBos ? 1 : 0);
  const context = ctx.deployment.contextLength;
  // vLLM's wording, so clients that parse it keep working.
  if (maxTokens === undefined && promptTokens >= context) {
    throw new ApiError(
      'context_length_exceeded',
      `This model's maximum context length is ${context} tokens. However, you requested ${promptTokens} tokens in the messages, Please reduce the length of the messages.`,
      { param },
    );
  }
  const completion = maxTokens ?? context - promptTokens;
  if (promptTokens + completion > context) {
    throw new ApiError(
      'context_length_exceeded',
      `This model's maximum context length is ${context} tokens. However, you requested ${promptTokens + completion} tokens ` +
        `(${promptTokens} in the messages, ${completion} in the completion). Please reduce the length of the messages or completion.`,
      { param },
    );
  }
  return { promptTokens, maxTokens: completion, ignoreEos: ignoreEos === true };
}

/** Applies the request-level faults that act before any token: slow start, then the error rate. */
export async function beforeFirstToken(ctx: RequestContext): Promise<void> {
  const f = ctx.faults();
  if (f.slowStartMs > 0) await new Promise((resolve) => setTimeout(resolve, f.slowStartMs));
  if (f.errorRate > 0 && ctx.rng.next() < f.errorRate) throw new ApiError('injected_fault', 'injected fault: simulated server error');
}

/** Per-request stream faults, drawn once: a stall after the first token, a cut after some token. */
export interface StreamFaults {
  stallMs: number;
  disconnectAfter: number;
}

export function drawStreamFaults(ctx: RequestContext, job: Job, streaming: boolean): StreamFaults {
  const f = ctx.faults();
  const stallMs = f.stallMs > 0 && ctx.rng.next() < f.stallRate ? f.stallMs : 0;
  const cut = streaming && f.disconnectRate > 0 && ctx.rng.next() < f.disconnectRate;
  return { stallMs, disconnectAfter: cut ? 1 + Math.floor(ctx.rng.next() * Math.max(1, job.maxTokens - 1)) : Number.POSITIVE_INFINITY };
}

export interface Emitter {
  /** `piece` indexes the filler text (see text.ts); `index` counts the tokens sent so far, from 1. */
  token(piece: number, index: number): void;
  finish(info: FinishInfo, text: string): void;
}

/**
 * Runs one job on the engine and feeds the emitter: tokens at their scheduled times (held back while
 * a stall lasts), the finish, metrics, lag accounting, and cancellation when the client goes away.
 */
export function runJob(ctx: RequestContext, job: Job, res: ServerResponse, faults: StreamFaults, emitter: Emitter, keepText: boolean): void {
  const start = ctx.clock.now();
  let firstAt = -1;
  let count = 0;
  let text = '';
  let released = faults.stallMs === 0;
  let sent = 0;
  let held: number[] = [];
  let heldFinish: FinishInfo | undefined;
  let done = false;
  let stallTimer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    released = true;
    if (res.destroyed) return;
    for (const piece of held) emitter.token(piece, ++sent);
    held = [];
    if (heldFinish) emitter.finish(heldFinish, text);
  };
  // Callbacks run on the engine's clock, never inside submit(), so they may use `handle`.
  const handle: SubmitHandle = ctx.engine.submit(job, {
    onToken: (n, atMs) => ctx.pacer.at(atMs, () => deliverTokens(n, atMs)),
    onFinish: (info) => ctx.pacer.at(info.atMs, () => deliverFinish(info)),
  });
  function deliverTokens(n: number, atMs: number): void {
    if (done) return;
    ctx.lag.record(ctx.clock.now() - atMs);
    for (let i = 0; i < n; i++) {
      count++;
      const piece = nextPiece(ctx.rng);
      if (keepText) text += pieceText(piece);
      if (firstAt < 0) {
        firstAt = atMs;
        if (!released) stallTimer = setTimeout(flush, faults.stallMs);
        emitter.token(piece, ++sent);
      } else if (released) emitter.token(piece, ++sent);
      else held.push(piece);
      if (count >= faults.disconnectAfter) {
        done = true;
        handle.cancel();
        res.destroy();
        return;
      }
    }
  }
  function deliverFinish(info: FinishInfo): void {
    if (done || info.reason === 'cancelled') return;
    done = true;
    const e2e = info.atMs - start;
    ctx.metrics.observeRequest({
      ttftS: (firstAt - start) / 1e3,
      tpotS: info.outputTokens > 1 ? (info.atMs - firstAt) / (info.outputTokens - 1) / 1e3 : undefined,
      e2eS: e2e / 1e3,
      reason: info.reason,
    });
    if (released) emitter.finish(info, text);
    else heldFinish = info;
  }
  res.on('close', () => {
    clearTimeout(stallTimer);
    if (!done) handle.cancel();
  });
}

/** Counts a streamed response among the open streams until it closes. */
export function trackStream(ctx: RequestContext, res: ServerResponse): void {
  ctx.streams.add(res);
  res.on('close', () => ctx.streams.delete(res));
}

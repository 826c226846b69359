/**
 * One request from arrival to its access-log line: its id, caller, decision, the generation it
 * runs under, and what the drain needs to end it (its exchange, or its wait for an admission slot).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from '../protocol/index.js';
import { accessRecord, type RequestOutcome } from './access-log.js';
import type { Caller } from './auth.js';
import type { GatewayContext } from './context.js';
import type { Exchange } from './exchange.js';
import type { RouteDecision } from './expert-router.js';
import type { Generation } from './generation.js';
import { requestIdOf } from './trace-context.js';

/** Status recorded for a request whose client went away before the end (nginx's convention). */
export const CLIENT_CLOSED = 499;

export class RequestContext {
  readonly id: string;
  readonly startedAt = performance.now();
  /** The configuration this request runs under, from arrival to end. */
  readonly generation: Generation;
  caller: Caller | undefined;
  decision: RouteDecision | undefined;
  stream: boolean | undefined;
  /** Set once forwarded: the exchange then ends the request. */
  exchange: Exchange | undefined;
  /** Aborts the wait for an admission slot (the client left, or the drain ran out); made when queued. */
  private queueAbort: AbortController | undefined;
  /** The code of an error answered before forwarding. */
  errorCode: string | undefined;
  private ended = false;
  private closed = false;

  constructor(private readonly ctx: GatewayContext, readonly req: IncomingMessage, readonly res: ServerResponse, readonly path: string) {
    this.id = requestIdOf(req.headers);
    this.generation = ctx.current;
    this.generation.acquire();
    ctx.requests.add(this);
    res.once('close', () => {
      this.closed = true;
      this.queueAbort?.abort();
      if (!this.exchange) this.end({ status: res.headersSent ? res.statusCode : CLIENT_CLOSED, errorCode: res.headersSent ? this.errorCode : 'client_closed' });
    });
  }

  /** Ends the request now (the drain ran out): its stream gets an error event, a queued request a 503. */
  shutdown(): void {
    const err = new ApiError('shutting_down', 'the gateway is shutting down and could not finish this request in time');
    if (this.exchange) this.exchange.end(err);
    else this.queueAbort?.abort(err);
  }

  /** The signal of the wait for an admission slot. */
  queueSignal(): AbortSignal {
    if (!this.queueAbort) {
      this.queueAbort = new AbortController();
      if (this.closed) this.queueAbort.abort();
    }
    return this.queueAbort.signal;
  }

  /** Once per request: the access log line, the caller's token use, the generation's count. */
  end(outcome: RequestOutcome): void {
    if (this.ended) return;
    this.ended = true;
    this.ctx.requests.delete(this);
    const config = this.generation.config;
    const usage = outcome.usage;
    if (this.caller?.limiter && usage) this.caller.limiter.charge((usage.prompt ?? 0) + (usage.completion ?? 0));
    if (config.log.access && this.ctx.logger.isLevelEnabled('info')) {
      const record = accessRecord({
        requestId: this.id,
        method: this.req.method,
        path: this.path,
        caller: this.caller?.name,
        decision: this.decision,
        stream: this.stream,
        durationMs: performance.now() - this.startedAt,
        outcome,
        logPrompts: config.log.prompts,
      });
      this.ctx.logger.info(record, 'request');
    }
    this.generation.release();
  }
}

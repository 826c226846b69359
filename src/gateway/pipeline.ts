/**
 * The completion endpoints' request path: read and validate the body (once), classify, choose the
 * expert, take an admission slot, then hand over to an Exchange that forwards and relays.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BackendCall, RequestKind } from '../backends/index.js';
import { parseJsonObject, readBody } from '../protocol/index.js';
import type { GatewayContext } from './context.js';
import { Exchange } from './exchange.js';
import type { RouteDecision } from './expert-router.js';
import { NONE } from './headers.js';
import { validateCompletionBody } from './request-body.js';

/** Reads, parses and validates a completion request body; `raw` is the body's bytes as sent. */
export async function readCompletionRequest(ctx: GatewayContext, req: IncomingMessage, kind: RequestKind): Promise<{ body: Record<string, unknown>; raw: Buffer }> {
  const raw = await readBody(req, ctx.config.limits.body_bytes);
  return { body: validateCompletionBody(parseJsonObject(raw), kind), raw };
}

/** The cluster header value: the cluster id, or "none" when nothing was classified. */
export function clusterOf(decision: RouteDecision): string {
  return decision.prediction ? String(decision.prediction.cluster) : NONE;
}

export function recordDecision(ctx: GatewayContext, decision: RouteDecision): void {
  const p = decision.prediction;
  if (p) ctx.metrics.classification(decision.classifyMs / 1000);
  ctx.metrics.decision(p ? String(p.cluster) : NONE, p ? p.label : NONE, decision.expert.config.name);
}

/**
 * Handles POST /v1/chat/completions and /v1/completions. Throws ApiError for anything that fails
 * before forwarding (the caller answers it, with `onDecision` having named the expert if known).
 */
export async function handleCompletion(
  ctx: GatewayContext,
  req: IncomingMessage,
  res: ServerResponse,
  kind: RequestKind,
  startedAt: number,
  onDecision: (decision: RouteDecision) => void,
): Promise<void> {
  const { body, raw } = await readCompletionRequest(ctx, req, kind);
  const decision = ctx.router.decide(kind, body);
  onDecision(decision);
  recordDecision(ctx, decision);
  const expert = decision.expert;
  const stream = body.stream === true;
  const streamOptions = body.stream_options as { include_usage?: boolean } | null | undefined;
  const call: BackendCall = { kind, body, raw, model: expert.config.model, stream, clientWantsUsage: stream && streamOptions?.include_usage === true };
  const upstream = expert.backend.request(call);

  const admission = expert.pool.admission;
  if (admission && !admission.tryAcquire()) {
    const gone = new AbortController();
    const onClose = (): void => gone.abort();
    res.once('close', onClose);
    try {
      await admission.wait(gone.signal);
    } finally {
      res.off('close', onClose);
    }
  }
  new Exchange({
    req,
    res,
    endpoint: kind === 'chat' ? '/v1/chat/completions' : '/v1/completions',
    expert,
    cluster: clusterOf(decision),
    call,
    upstream,
    metrics: ctx.metrics,
    logger: ctx.logger,
    startedAt,
    classifyMs: decision.classifyMs,
    onDone: () => admission?.release(),
  }).start();
}

/**
 * The completion endpoints' request path, one step after the other:
 * caller's limits → read and validate the body (once) → decide the expert (expert-router.ts) →
 * the caller may use it → take an admission slot → hand over to an Exchange that forwards and
 * relays. Authentication happened before (routes.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BackendCall, RequestKind } from '../backends/index.js';
import { ApiError, parseJsonObject, readBody } from '../protocol/index.js';
import { Authenticator } from './auth.js';
import type { GatewayContext } from './context.js';
import { Exchange } from './exchange.js';
import type { RouteDecision } from './expert-router.js';
import { CONFIDENCE_HEADER, NONE, REASON_HEADER, REQUEST_ID_HEADER, SESSION_HEADER, TIER_HEADER } from './headers.js';
import type { RequestContext } from './request-context.js';
import { validateCompletionBody } from './request-body.js';
import { requestHeadersFor } from './trace-context.js';
import { joinUpstreamPath } from './upstream-path.js';

/** Longest x-session-id kept (longer ones are ignored, as if absent). */
const SESSION_ID_LIMIT = 256;

/** Reads, parses and validates a completion request body; `raw` is the body's bytes as sent. */
export async function readCompletionRequest(rc: RequestContext, req: IncomingMessage, kind: RequestKind): Promise<{ body: Record<string, unknown>; raw: Buffer }> {
  const raw = await readBody(req, rc.generation.config.limits.body_bytes);
  return { body: validateCompletionBody(parseJsonObject(raw), kind), raw };
}

/** The cluster header value: the cluster id, or "none" when nothing was classified. */
export function clusterOf(decision: RouteDecision): string {
  return decision.prediction ? String(decision.prediction.cluster) : NONE;
}

/** The client's x-session-id, when it sent a usable one. */
export function sessionOf(req: IncomingMessage): string | undefined {
  const id = req.headers[SESSION_HEADER];
  return typeof id === 'string' && id.length > 0 && id.length <= SESSION_ID_LIMIT ? id : undefined;
}

export function recordDecision(ctx: GatewayContext, decision: RouteDecision): void {
  const p = decision.prediction;
  if (p) ctx.metrics.classification(decision.classifyMs / 1000);
  ctx.metrics.decision(p ? String(p.cluster) : NONE, p ? p.label : NONE, decision.expert.config.name);
}

/** The decision's response headers as a flat list: request id, reason, confidence. */
export function decisionHeaders(rc: RequestContext, decision: RouteDecision | undefined): string[] {
  const list = [REQUEST_ID_HEADER, rc.id];
  if (decision) {
    list.push(REASON_HEADER, decision.reason);
    if (decision.prediction) list.push(CONFIDENCE_HEADER, decision.prediction.confidence.toFixed(4));
    if (decision.embedding) list.push(TIER_HEADER, `${decision.embedding.tier}; reason=${decision.embedding.reason}`);
  }
  return list;
}

/** Waits for an admission slot; the drain's deadline turns the wait into 503 shutting_down. */
async function admit(rc: RequestContext, admission: NonNullable<RouteDecision['expert']['pool']['admission']>): Promise<void> {
  if (admission.tryAcquire()) return;
  const signal = rc.queueSignal();
  try {
    await admission.wait(signal);
  } catch (err) {
    if (signal.reason instanceof ApiError) throw signal.reason;
    throw err;
  }
}

/**
 * Handles POST /v1/chat/completions and /v1/completions. Throws ApiError for anything that fails
 * before forwarding (the caller answers it with the decision's headers, if one was made).
 */
export async function handleCompletion(ctx: GatewayContext, rc: RequestContext, req: IncomingMessage, res: ServerResponse, kind: RequestKind): Promise<void> {
  rc.caller?.limiter?.admit();
  const { body, raw } = await readCompletionRequest(rc, req, kind);
  const generation = rc.generation;
  const session = sessionOf(req);
  let decision = generation.router.decide(kind, body, session);
  if (generation.router.escalates(decision)) decision = await generation.router.refine(decision, body, session, rc.queueSignal());
  rc.decision = decision;
  recordDecision(ctx, decision);
  const expert = decision.expert;
  if (rc.caller) Authenticator.requireExpert(rc.caller, expert.config.name);
  const stream = body.stream === true;
  rc.stream = stream;
  const streamOptions = body.stream_options as { include_usage?: boolean } | null | undefined;
  const call: BackendCall = { kind, body, raw, model: expert.config.model, stream, clientWantsUsage: stream && streamOptions?.include_usage === true };
  let upstream = expert.backend.request(call);
  if (expert.pathPrefix !== '') upstream = { ...upstream, path: joinUpstreamPath(expert.pathPrefix, upstream.path) };

  const admission = expert.pool.admission;
  if (admission) await admit(rc, admission);
  const config = generation.config;
  const exchange = new Exchange({
    req,
    res,
    endpoint: kind === 'chat' ? '/v1/chat/completions' : '/v1/completions',
    expert,
    cluster: clusterOf(decision),
    call,
    upstream,
    metrics: ctx.metrics,
    logger: ctx.logger,
    startedAt: rc.startedAt,
    classifyMs: decision.classifyMs,
    requestHeaders: requestHeadersFor(rc.id, req.headers),
    exposeTopology: config.expose_topology,
    responseHeaders: decisionHeaders(rc, decision),
    sendTimeoutMs: config.limits.send_timeout_ms,
    onDone: (end) => {
      admission?.release();
      rc.end(end);
    },
  });
  rc.exchange = exchange;
  exchange.start();
}

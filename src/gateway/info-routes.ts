/** The endpoints that forward nothing: /v1/models, /v1/route, /healthz, /readyz, /metrics, /admin/reload. */
import type { IncomingMessage } from 'node:http';
import { ApiError, parseJsonObject, readBody } from '../protocol/index.js';
import type { RequestKind } from '../backends/index.js';
import { Authenticator, type Caller } from './auth.js';
import type { GatewayContext } from './context.js';
import type { RouteDecision } from './expert-router.js';
import { recordDecision, sessionOf } from './pipeline.js';
import type { RequestContext } from './request-context.js';
import { validateCompletionBody } from './request-body.js';

/** What a handler answers; the server adds the gateway's headers and sends it. */
export interface Answer {
  status: number;
  body: string;
  contentType: string;
}

function json(value: unknown, status = 200): Answer {
  return { status, body: JSON.stringify(value), contentType: 'application/json' };
}

const CREATED = Math.floor(Date.now() / 1000);

/** Experts the caller may use. */
function visibleExperts(rc: RequestContext): RequestContext['generation']['experts'] {
  const allowed = rc.caller?.experts;
  return allowed ? rc.generation.experts.filter((e) => allowed.has(e.config.name)) : rc.generation.experts;
}

export function models(rc: RequestContext): Answer {
  const aliases = rc.generation.config.routing.aliases.map((id) => ({ id, object: 'model', created: CREATED, owned_by: 'expert-router' }));
  const data = [
    ...aliases,
    ...visibleExperts(rc).map((e) => ({
      id: e.config.name,
      object: 'model',
      created: CREATED,
      owned_by: 'expert-router',
      upstream_model: e.config.model,
      protocol: e.config.protocol,
    })),
  ];
  return json({ object: 'list', data });
}

/** Why the decision is what it is, in the words /v1/route answers with. */
function decisionDetail(rc: RequestContext, decision: RouteDecision): Record<string, unknown> {
  const router = rc.generation.router;
  const expert = decision.expert;
  const p = decision.prediction;
  const labels = router.classifier.clusterLabels;
  const replica = rc.generation.config.expose_topology ? (expert.pool.preview()?.url ?? null) : undefined;
  return {
    expert: expert.config.name,
    protocol: expert.config.protocol,
    model: expert.config.model,
    ...(replica === undefined ? {} : { replica }),
    reason: decision.reason,
    cluster: p ? p.cluster : null,
    label: p ? p.label : null,
    confidence: p ? p.confidence : null,
    threshold: p ? router.thresholdOf(router.expertOfCluster(p.cluster)) : null,
    classified_expert: p ? router.expertOfCluster(p.cluster).config.name : null,
    score: p ? p.score : null,
    margin: p ? p.margin : null,
    classify_ms: decision.classifyMs,
    ...(decision.embedding ? { tier: decision.embedding } : {}),
    scores: p ? p.scores.map((score, cluster) => ({ cluster, label: labels[cluster], score, expert: router.expertOfCluster(cluster).config.name })) : [],
  };
}

/**
 * POST /v1/route: the decision for a chat (messages) or completion (prompt) body, exactly as a
 * completion request would get it (x-session-id included); `model` defaults to auto. Nothing is
 * forwarded. With `?explain=1` it adds the features that drove the classification.
 */
export async function route(ctx: GatewayContext, rc: RequestContext, req: IncomingMessage): Promise<Answer> {
  const raw = parseJsonObject(await readBody(req, rc.generation.config.limits.body_bytes));
  const kind: RequestKind = 'messages' in raw ? 'chat' : 'completion';
  if (kind === 'completion' && !('prompt' in raw)) throw new ApiError('invalid_request', "invalid request body: 'messages' or 'prompt' is required", { param: 'messages' });
  const body = validateCompletionBody({ model: rc.generation.config.routing.aliases[0], ...raw }, kind);
  const session = sessionOf(req);
  let decision = rc.generation.router.decide(kind, body, session);
  if (rc.generation.router.escalates(decision)) decision = await rc.generation.router.refine(decision, body, session, rc.queueSignal());
  rc.decision = decision;
  recordDecision(ctx, decision);
  if (rc.caller) Authenticator.requireExpert(rc.caller, decision.expert.config.name);
  const detail = decisionDetail(rc, decision);
  if (wantsExplanation(req.url)) detail.explain = await explanation(rc, decision);
  return json(detail);
}

function wantsExplanation(url: string | undefined): boolean {
  const q = url?.indexOf('?') ?? -1;
  if (q === -1) return false;
  const value = new URLSearchParams(url!.slice(q + 1)).get('explain');
  return value === '1' || value === 'true';
}

/**
 * The features behind the classifier's decision (`/v1/route?explain=1`): null when nothing was
 * classified, or when the classifier is not one of the project's models (a custom PromptClassifier).
 */
async function explanation(rc: RequestContext, decision: RouteDecision): Promise<unknown> {
  if (!decision.prediction) return null;
  const { ClassifierModel, explainPrediction } = await import('../classifier/index.js');
  const classifier = rc.generation.router.classifier;
  return classifier instanceof ClassifierModel ? explainPrediction(classifier, decision.text) : null;
}

export function healthz(): Answer {
  return json({ status: 'ok' });
}

/** Replica detail (addresses) only for an admin caller or with expose_topology. */
function showTopology(rc: RequestContext): boolean {
  return rc.generation.config.expose_topology || rc.caller?.admin === true;
}

export function readyz(ctx: GatewayContext, rc: RequestContext): Answer {
  const detail = showTopology(rc);
  const experts = rc.generation.experts.map((e) => ({
    name: e.config.name,
    ready: e.pool.ready,
    replicas_up: e.pool.replicas.filter((r) => r.up).length,
    replicas_total: e.pool.replicas.length,
    ...(detail ? { replicas: e.pool.replicas.map((r) => ({ url: r.url, up: r.up, answered: r.answered, in_flight: r.inFlight, circuit: r.circuit(performance.now()), ejected: r.outlier.ejected(performance.now()) })) } : {}),
  }));
  if (ctx.draining) {
    const err = new ApiError('shutting_down', 'the gateway is shutting down');
    return json({ ...err.toBody(), ready: false, experts }, err.status);
  }
  const waiting = experts.filter((e) => !e.ready).map((e) => e.name);
  if (waiting.length === 0) return json({ ready: true, experts });
  const err = new ApiError('not_ready', `no replica has answered yet for expert(s): ${waiting.join(', ')}`);
  return json({ ...err.toBody(), ready: false, experts }, err.status);
}

export async function metrics(ctx: GatewayContext, rc: RequestContext): Promise<Answer> {
  if (rc.generation.auth.enabled) rc.generation.auth.requireAdmin(rc.caller as Caller, '/metrics');
  return { status: 200, body: await ctx.metrics.text(), contentType: ctx.metrics.contentType };
}

/** POST /admin/reload: re-reads the configuration; a bad one is refused (400 invalid_config) and the old one keeps serving. */
export async function adminReload(ctx: GatewayContext, rc: RequestContext): Promise<Answer> {
  rc.generation.auth.requireAdmin(rc.caller as Caller, 'POST /admin/reload');
  const config = await ctx.reload();
  return json({ reloaded: true, experts: config.experts.map((e) => e.name) });
}

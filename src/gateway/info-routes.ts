/** The endpoints that forward nothing: /v1/models, /v1/route, /healthz, /readyz, /metrics. */
import type { IncomingMessage } from 'node:http';
import { ApiError, parseJsonObject, readBody } from '../protocol/index.js';
import type { RequestKind } from '../backends/index.js';
import type { GatewayContext } from './context.js';
import { validateCompletionBody } from './request-body.js';
import { recordDecision } from './pipeline.js';
import type { RouteDecision } from './expert-router.js';

/** What a handler answers; the server adds the gateway's headers and sends it. */
export interface Answer {
  status: number;
  body: string;
  contentType: string;
  decision?: RouteDecision;
}

function json(value: unknown, status = 200): Answer {
  return { status, body: JSON.stringify(value), contentType: 'application/json' };
}

const CREATED = Math.floor(Date.now() / 1000);

export function models(ctx: GatewayContext): Answer {
  const data = [
    { id: 'auto', object: 'model', created: CREATED, owned_by: 'expert-router' },
    ...ctx.router.experts.map((e) => ({
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

/** POST /v1/route: the decision for a chat (messages) or completion (prompt) body; `model` defaults to auto. */
export async function route(ctx: GatewayContext, req: IncomingMessage): Promise<Answer> {
  const raw = parseJsonObject(await readBody(req, ctx.config.limits.body_bytes));
  const kind: RequestKind = 'messages' in raw ? 'chat' : 'completion';
  if (kind === 'completion' && !('prompt' in raw)) throw new ApiError('invalid_request', "invalid request body: 'messages' or 'prompt' is required", { param: 'messages' });
  const body = validateCompletionBody({ model: 'auto', ...raw }, kind);
  const decision = ctx.router.decide(kind, body);
  recordDecision(ctx, decision);
  const expert = decision.expert;
  const p = decision.prediction;
  const labels = ctx.router.classifier.clusterLabels;
  return {
    ...json({
      expert: expert.config.name,
      protocol: expert.config.protocol,
      model: expert.config.model,
      replica: expert.pool.pick()?.url ?? null,
      reason: decision.reason,
      cluster: p ? p.cluster : null,
      label: p ? p.label : null,
      score: p ? p.score : null,
      margin: p ? p.margin : null,
      classify_ms: decision.classifyMs,
      scores: p ? p.scores.map((score, cluster) => ({ cluster, label: labels[cluster], score, expert: ctx.router.expertOfCluster(cluster).config.name })) : [],
    }),
    decision,
  };
}

export function healthz(): Answer {
  return json({ status: 'ok' });
}

export function readyz(ctx: GatewayContext): Answer {
  const experts = ctx.router.experts.map((e) => ({
    name: e.config.name,
    ready: e.pool.ready,
    replicas: e.pool.replicas.map((r) => ({ url: r.url, up: r.up, answered: r.answered, in_flight: r.inFlight })),
  }));
  const waiting = experts.filter((e) => !e.ready).map((e) => e.name);
  if (waiting.length === 0) return json({ ready: true, experts });
  const err = new ApiError('not_ready', `no replica has answered yet for expert(s): ${waiting.join(', ')}`);
  return json({ ...err.toBody(), ready: false, experts }, err.status);
}

export async function metrics(ctx: GatewayContext): Promise<Answer> {
  return { status: 200, body: await ctx.metrics.text(), contentType: ctx.metrics.contentType };
}

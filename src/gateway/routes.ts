/**
 * The gateway's request handler: dispatches by method and path, and answers every failure before
 * forwarding as an OpenAI-style error. Every response carries the expert, cluster and
 * server-timing headers ("none" where no expert was chosen).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, toApiError } from '../protocol/index.js';
import type { GatewayContext } from './context.js';
import type { RouteDecision } from './expert-router.js';
import { NONE, gatewayHeaders } from './headers.js';
import { healthz, metrics, models, readyz, route, type Answer } from './info-routes.js';
import { clusterOf, handleCompletion } from './pipeline.js';

type Handler = (ctx: GatewayContext, req: IncomingMessage, res: ServerResponse, startedAt: number, onDecision: (d: RouteDecision) => void) => Promise<Answer | void> | Answer;

const ROUTES: Record<string, Record<string, Handler>> = {
  '/v1/chat/completions': { POST: (ctx, req, res, t, on) => handleCompletion(ctx, req, res, 'chat', t, on) },
  '/v1/completions': { POST: (ctx, req, res, t, on) => handleCompletion(ctx, req, res, 'completion', t, on) },
  '/v1/models': { GET: (ctx) => models(ctx) },
  '/v1/route': { POST: (ctx, req) => route(ctx, req) },
  '/healthz': { GET: () => healthz() },
  '/readyz': { GET: (ctx) => readyz(ctx) },
  '/metrics': { GET: (ctx) => metrics(ctx) },
};

function pathOf(url: string | undefined): string {
  if (!url) return '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

function send(res: ServerResponse, answer: Answer, decision: RouteDecision | undefined, startedAt: number): void {
  const headers = gatewayHeaders(
    decision ? decision.expert.config.name : NONE,
    decision ? clusterOf(decision) : NONE,
    performance.now() - startedAt,
    decision ? decision.classifyMs : 0,
  );
  res.writeHead(answer.status, { ...headers, 'content-type': answer.contentType, 'content-length': String(Buffer.byteLength(answer.body)) });
  res.end(answer.body);
}

export function createRequestHandler(ctx: GatewayContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const startedAt = performance.now();
    const path = pathOf(req.url);
    const methods = ROUTES[path];
    let decision: RouteDecision | undefined;
    const fail = (err: unknown): void => {
      const expert = decision ? decision.expert.config.name : NONE;
      if (res.headersSent || res.destroyed) {
        // The client left (e.g. while queued) or the answer already started: nothing more to send.
        if (!res.headersSent) ctx.metrics.request(expert, NONE, path, 499);
        res.destroy();
        return;
      }
      const apiError = toApiError(err);
      if (apiError.code === 'internal_error') ctx.logger.error({ err, path }, 'request failed');
      ctx.metrics.error(expert, apiError.code);
      ctx.metrics.request(expert, NONE, methods ? path : 'other', apiError.status);
      send(res, { status: apiError.status, body: JSON.stringify(apiError.toBody()), contentType: 'application/json' }, decision, startedAt);
    };
    if (!methods) {
      fail(new ApiError('not_found', `no route for ${req.method} ${path}`));
      return;
    }
    const handler = methods[req.method ?? ''];
    if (!handler) {
      fail(new ApiError('method_not_allowed', `${req.method} is not allowed on ${path} (allowed: ${Object.keys(methods).join(', ')})`));
      return;
    }
    try {
      const result = handler(ctx, req, res, startedAt, (d) => (decision = d));
      if (result instanceof Promise) {
        result.then((answer) => {
          if (answer) send(res, answer, answer.decision, startedAt);
        }, fail);
      } else if (result) send(res, result, result.decision, startedAt);
    } catch (err) {
      fail(err);
    }
  };
}

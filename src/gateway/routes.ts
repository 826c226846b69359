/**
 * The gateway's request handler: gives each request its context (id, caller, generation),
 * authenticates it, dispatches by method and path, and answers every failure before forwarding as
 * an OpenAI-style error. Every response carries x-request-id, the expert, cluster and
 * server-timing headers ("none" where no expert was chosen), and the decision's reason and
 * confidence once there is one.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, toApiError } from '../protocol/index.js';
import type { GatewayContext } from './context.js';
import { NONE, gatewayHeaders } from './headers.js';
import { adminReload, healthz, metrics, models, readyz, route, type Answer } from './info-routes.js';
import { clusterOf, decisionHeaders, handleCompletion } from './pipeline.js';
import { RequestContext } from './request-context.js';

type Handler = (ctx: GatewayContext, rc: RequestContext, req: IncomingMessage, res: ServerResponse) => Promise<Answer | void> | Answer;

/** required: a valid key when auth is on (401 otherwise); optional: a key is used when valid; none: not read. */
type AuthMode = 'required' | 'optional' | 'none';

interface Route {
  auth: AuthMode;
  /** Still served while the gateway drains (the probes and the metrics). */
  duringDrain: boolean;
  methods: Record<string, Handler>;
}

const ROUTES: Record<string, Route> = {
  '/v1/chat/completions': { auth: 'required', duringDrain: false, methods: { POST: (ctx, rc, req, res) => handleCompletion(ctx, rc, req, res, 'chat') } },
  '/v1/completions': { auth: 'required', duringDrain: false, methods: { POST: (ctx, rc, req, res) => handleCompletion(ctx, rc, req, res, 'completion') } },
  '/v1/models': { auth: 'required', duringDrain: false, methods: { GET: (_ctx, rc) => models(rc) } },
  '/v1/route': { auth: 'required', duringDrain: false, methods: { POST: (ctx, rc, req) => route(ctx, rc, req) } },
  '/admin/reload': { auth: 'required', duringDrain: false, methods: { POST: (ctx, rc) => adminReload(ctx, rc) } },
  '/healthz': { auth: 'none', duringDrain: true, methods: { GET: () => healthz() } },
  '/readyz': { auth: 'optional', duringDrain: true, methods: { GET: (ctx, rc) => readyz(ctx, rc) } },
  '/metrics': { auth: 'required', duringDrain: true, methods: { GET: (ctx, rc) => metrics(ctx, rc) } },
};

function pathOf(url: string | undefined): string {
  if (!url) return '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

function send(res: ServerResponse, rc: RequestContext, answer: Answer, extra?: Record<string, string>): void {
  const decision = rc.decision;
  const headers: Record<string, string> = gatewayHeaders(
    decision ? decision.expert.config.name : NONE,
    decision ? clusterOf(decision) : NONE,
    performance.now() - rc.startedAt,
    decision ? decision.classifyMs : 0,
  );
  const list = decisionHeaders(rc, decision);
  for (let i = 0; i < list.length; i += 2) headers[list[i]] = list[i + 1];
  res.writeHead(answer.status, { ...headers, ...extra, 'content-type': answer.contentType, 'content-length': String(Buffer.byteLength(answer.body)) });
  res.end(answer.body);
}

function authenticate(rc: RequestContext, mode: AuthMode): void {
  const auth = rc.generation.auth;
  if (mode === 'none') return;
  if (mode === 'required') {
    rc.caller = auth.authenticate(rc.req);
    return;
  }
  try {
    rc.caller = auth.authenticate(rc.req);
  } catch {
    // An optional key that does not check out is ignored: the answer is the anonymous one.
    rc.caller = undefined;
  }
}

export function createRequestHandler(ctx: GatewayContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = pathOf(req.url);
    const rc = new RequestContext(ctx, req, res, path);
    const entry = ROUTES[path];
    const fail = (err: unknown): void => {
      const expert = rc.decision ? rc.decision.expert.config.name : NONE;
      const apiError = toApiError(err);
      rc.errorCode = apiError.code;
      if (res.headersSent || res.destroyed) {
        // The client left (e.g. while queued) or the answer already started: nothing more to send.
        if (!res.headersSent) ctx.metrics.request(expert, NONE, path, 499);
        res.destroy();
        return;
      }
      if (apiError.code === 'internal_error') ctx.logger.error({ err, path, request_id: rc.id }, 'request failed');
      ctx.metrics.error(expert, apiError.code);
      ctx.metrics.request(expert, NONE, entry ? path : 'other', apiError.status);
      const extra: Record<string, string> = {};
      if (apiError.retryAfterS !== undefined) extra['retry-after'] = String(apiError.retryAfterS);
      if (apiError.code === 'unauthorized') extra['www-authenticate'] = 'Bearer';
      if (ctx.draining) extra.connection = 'close';
      send(res, rc, { status: apiError.status, body: JSON.stringify(apiError.toBody()), contentType: 'application/json' }, extra);
    };
    if (!entry) {
      fail(new ApiError('not_found', `no route for ${req.method} ${path}`));
      return;
    }
    // HEAD is answered as GET (node:http sends the head only).
    const handler = entry.methods[req.method ?? ''] ?? (req.method === 'HEAD' ? entry.methods.GET : undefined);
    if (!handler) {
      fail(new ApiError('method_not_allowed', `${req.method} is not allowed on ${path} (allowed: ${Object.keys(entry.methods).join(', ')})`));
      return;
    }
    if (ctx.draining && !entry.duringDrain) {
      fail(new ApiError('shutting_down', 'the gateway is shutting down; send the request to another instance', { retryAfterS: 1 }));
      return;
    }
    try {
      authenticate(rc, entry.auth);
      const result = handler(ctx, rc, req, res);
      if (result instanceof Promise) {
        result.then((answer) => {
          if (answer) send(res, rc, answer);
        }, fail);
      } else if (result) send(res, rc, result);
    } catch (err) {
      fail(err);
    }
  };
}

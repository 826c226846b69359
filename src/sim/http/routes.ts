/**
 * The simulated server's routes: the two protocols' endpoints, /v1/models, /metrics with vLLM's
 * names, the health checks, and the admin endpoints for faults (/admin/faults) and timing (/admin/stats).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, readJsonBody, sendJson } from '../../protocol/index.js';
import { FaultUpdateError, parseFaultUpdate } from '../faults.js';
import type { RequestContext } from './context.js';
import { handleEmbeddings } from './embeddings.js';
import { handleOpenAI } from './openai.js';
import { handleTriton } from './triton.js';

const TRITON_PATH = /^\/v2\/models\/([^/]+)(?:\/versions\/[^/]+)?\/(generate|generate_stream)$/;

export async function route(ctx: RequestContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  const method = req.method ?? 'GET';
  if (path === '/v1/chat/completions' || path === '/v1/completions') {
    requireMethod(method, 'POST');
    return handleOpenAI(ctx, req, res, path === '/v1/chat/completions');
  }
  const triton = TRITON_PATH.exec(path);
  if (triton) {
    requireMethod(method, 'POST');
    return handleTriton(ctx, req, res, decodeURIComponent(triton[1]), triton[2] === 'generate_stream');
  }
  switch (path) {
    case '/v1/embeddings':
      requireMethod(method, 'POST');
      return handleEmbeddings(ctx, req, res);
    case '/v1/models':
      requireMethod(method, 'GET');
      return sendJson(res, 200, {
        object: 'list',
        data: [{ id: ctx.modelName, object: 'model', created: 0, owned_by: 'expert-router-sim', max_model_len: ctx.deployment.contextLength }],
      });
    case '/metrics': {
      requireMethod(method, 'GET');
      const body = await ctx.metrics.registry.metrics();
      res.writeHead(200, { 'content-type': ctx.metrics.registry.contentType });
      res.end(body);
      return;
    }
    case '/health':
    case '/v2/health/ready':
    case '/v2/health/live':
      res.writeHead(200).end();
      return;
    case '/admin/faults':
      if (method === 'GET') return sendJson(res, 200, ctx.faults());
      requireMethod(method, 'POST');
      try {
        ctx.setFaults(parseFaultUpdate(await readJsonBody(req)));
      } catch (err) {
        if (err instanceof FaultUpdateError) throw new ApiError('invalid_request', err.message, err.field ? { param: err.field } : {});
        throw err;
      }
      return sendJson(res, 200, ctx.faults());
    case '/admin/stats':
      requireMethod(method, 'GET');
      return sendJson(res, 200, { engine: ctx.engine.stats(), tokenLagMs: ctx.lag.summary(), activeStreams: ctx.streams.size });
    default:
      throw new ApiError('not_found', `no route for ${method} ${path}`);
  }
}

function requireMethod(method: string, expected: string): void {
  if (method !== expected) throw new ApiError('method_not_allowed', `method ${method} not allowed here; use ${expected}`);
}

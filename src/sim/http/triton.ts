/** The Triton protocol of the simulated server: /v2/models/{model}/generate and generate_stream (TensorRT-LLM's ensemble). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, SSE_HEADERS, readJsonBody, sendJson, sseError, type TritonGenerateRequest } from '../../protocol/index.js';
import { openStream } from '../stream-writer.js';
import { pieceJson } from '../text.js';
import type { RequestContext } from './context.js';
import { simApiError } from './errors.js';
import { beforeFirstToken, drawStreamFaults, planJob, runJob, trackStream } from './job-runner.js';

/** Triton's ensemble model name, accepted besides the served model name. */
const TRITON_ENSEMBLE = 'ensemble';

export async function handleTriton(ctx: RequestContext, req: IncomingMessage, res: ServerResponse, name: string, stream: boolean): Promise<void> {
  try {
    const body = (await readJsonBody(req)) as Partial<TritonGenerateRequest>;
    if (name !== ctx.modelName && name !== TRITON_ENSEMBLE) throw new ApiError('model_not_found', `Request for unknown model: '${name}' is not found`);
    if (typeof body.text_input !== 'string') throw new ApiError('invalid_request', "input 'text_input' must be a string", { param: 'text_input' });
    const maxTokens = body.max_tokens;
    if (maxTokens !== undefined && (!Number.isInteger(maxTokens) || maxTokens < 1)) {
      throw new ApiError('invalid_request', "input 'max_tokens' must be a positive integer", { param: 'max_tokens' });
    }
    if (body.ignore_eos !== undefined && typeof body.ignore_eos !== 'boolean') throw new ApiError('invalid_request', "input 'ignore_eos' must be a boolean", { param: 'ignore_eos' });
    const job = planJob(ctx, body.text_input, maxTokens, body.ignore_eos, 'text_input', true);
    await beforeFirstToken(ctx);
    const faults = drawStreamFaults(ctx, job, stream);
    // Every event carries the prompt's token count, so a relay can report usage for streams too.
    const head = `data: {"model_name":${JSON.stringify(name)},"model_version":"1","prompt_token_count":${job.promptTokens},"text_output":`;
    if (!stream) {
      runJob(ctx, job, res, faults, {
        token: () => undefined,
        finish: (info, text) =>
          sendJson(res, 200, { model_name: name, model_version: '1', text_output: text, output_token_count: info.outputTokens, prompt_token_count: job.promptTokens }),
      }, true);
      return;
    }
    res.writeHead(200, SSE_HEADERS);
    const write = openStream(res);
    trackStream(ctx, res);
    runJob(ctx, job, res, faults, {
      token: (piece, index) => write(`${head}${pieceJson(piece)},"output_token_count":${index}}\n\n`),
      finish: () => res.end(),
    }, false);
  } catch (err) {
    sendTritonError(res, err);
  }
}

/** Triton answers errors as {"error": "message"} with the HTTP status; a started stream gets an error event. */
function sendTritonError(res: ServerResponse, err: unknown): void {
  const apiError = simApiError(err);
  if (res.headersSent) {
    res.end(sseError(apiError.toBody()));
    return;
  }
  sendJson(res, apiError.status, { error: apiError.message });
}

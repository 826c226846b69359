/** The OpenAI protocol of the simulated server: /v1/chat/completions and /v1/completions, streamed or not. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  ApiError,
  SSE_DONE,
  SSE_HEADERS,
  chatCompletionRequestSchema,
  completionRequestSchema,
  readJsonBody,
  renderLlama3,
  requestedMaxTokens,
  sendJson,
  validateRequest,
  type AnyCompletionRequest,
} from '../../protocol/index.js';
import { openStream } from '../stream-writer.js';
import { pieceJson } from '../text.js';
import type { RequestContext } from './context.js';
import { beforeFirstToken, drawStreamFaults, planJob, runJob, trackStream } from './job-runner.js';

export async function handleOpenAI(ctx: RequestContext, req: IncomingMessage, res: ServerResponse, chat: boolean): Promise<void> {
  const body = await readJsonBody(req);
  let request: AnyCompletionRequest;
  let promptText: string;
  if (chat) {
    const chatRequest = validateRequest(chatCompletionRequestSchema, body);
    request = chatRequest;
    promptText = renderLlama3(chatRequest.messages);
  } else {
    const completion = validateRequest(completionRequestSchema, body);
    request = completion;
    promptText = Array.isArray(completion.prompt) ? completion.prompt[0] : completion.prompt;
  }
  if (request.model !== ctx.modelName) throw new ApiError('model_not_found', `The model \`${request.model}\` does not exist. This server serves '${ctx.modelName}'.`, { param: 'model' });
  const job = planJob(ctx, promptText, requestedMaxTokens(request), request.ignore_eos, chat ? 'messages' : 'prompt', !chat);
  await beforeFirstToken(ctx);
  const stream = request.stream === true;
  const faults = drawStreamFaults(ctx, job, stream);
  const id = `${chat ? 'chatcmpl' : 'cmpl'}-${Math.floor(ctx.rng.next() * 2 ** 48).toString(36)}`;
  const created = Math.floor(Date.now() / 1000);
  const usage = (n: number) => ({ prompt_tokens: job.promptTokens, completion_tokens: n, total_tokens: job.promptTokens + n });
  if (!stream) {
    runJob(ctx, job, res, faults, {
      token: () => undefined,
      finish: (info, text) => {
        const choice = chat
          ? { index: 0, message: { role: 'assistant', content: text }, finish_reason: info.reason, logprobs: null }
          : { index: 0, text, finish_reason: info.reason, logprobs: null };
        sendJson(res, 200, { id, object: chat ? 'chat.completion' : 'text_completion', created, model: ctx.modelName, choices: [choice], usage: usage(info.outputTokens) });
      },
    }, true);
    return;
  }
  const includeUsage = request.stream_options?.include_usage === true;
  const object = chat ? 'chat.completion.chunk' : 'text_completion';
  // Every chunk shares this head; only the text differs, so no per-token object is serialised.
  const head = `data: {"id":"${id}","object":"${object}","created":${created},"model":${JSON.stringify(ctx.modelName)},"choices":[{"index":0,`;
  const tokenChunk = chat
    ? (piece: number) => `${head}"delta":{"content":${pieceJson(piece)}},"logprobs":null,"finish_reason":null}]}\n\n`
    : (piece: number) => `${head}"text":${pieceJson(piece)},"logprobs":null,"finish_reason":null}]}\n\n`;
  res.writeHead(200, SSE_HEADERS);
  const write = openStream(res);
  if (chat) write(`${head}"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}\n\n`);
  trackStream(ctx, res);
  runJob(ctx, job, res, faults, {
    token: (piece) => write(tokenChunk(piece)),
    finish: (info) => {
      let tail = chat
        ? `${head}"delta":{},"logprobs":null,"finish_reason":"${info.reason}"}]}\n\n`
        : `${head}"text":"","logprobs":null,"finish_reason":"${info.reason}"}]}\n\n`;
      if (includeUsage) {
        tail += `data: {"id":"${id}","object":"${object}","created":${created},"model":${JSON.stringify(ctx.modelName)},"choices":[],"usage":${JSON.stringify(usage(info.outputTokens))}}\n\n`;
      }
      res.end(tail + SSE_DONE);
    },
  }, false);
}

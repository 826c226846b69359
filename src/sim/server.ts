/**
 * The simulated inference server over HTTP (real time): OpenAI chat/completions and completions
 * (streamed or not), /v1/models, Triton generate and generate_stream, /metrics with vLLM's names,
 * /health, and the admin endpoints for fault injection (/admin/faults) and timing stats (/admin/stats).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  ApiError,
  SSE_DONE,
  SSE_HEADERS,
  chatCompletionRequestSchema,
  completionRequestSchema,
  readJsonBody,
  renderLlama3,
  requestedMaxTokens,
  sendError,
  sendJson,
  sseError,
  validateRequest,
  type AnyCompletionRequest,
  type TritonGenerateRequest,
} from '../protocol/index.js';
import { RealClock } from './clock.js';
import { createEngine, type FinishInfo, type SimEngine, type SubmitHandle } from './engine.js';
import { SimError } from './errors.js';
import { FaultUpdateError, NO_FAULTS, parseFaultUpdate, type FaultSettings } from './faults.js';
import { LatenessHistogram, type LatenessSummary } from '../common/lateness-histogram.js';
import { Pacer } from './pacer.js';
import { createSimMetrics, type SimMetrics } from './metrics.js';
import type { OutputLengthDistribution } from './output-length.js';
import { resolveProfile, type Deployment } from './profiles.js';
import { createRng, type Rng } from '../common/rng.js';
import { nextPiece, pieceJson, pieceText } from './text.js';
import { openStream } from './stream-writer.js';
import { countPromptTokens } from './tokenizer.js';

export interface SimServerOptions {
  profile: string | Deployment;
  host?: string;
  port?: number;
  seed?: number;
  /** Model name served and checked in requests; default the profile's model (Hugging Face id). */
  modelName?: string;
  faults?: Partial<FaultSettings>;
  maxNumSeqs?: number;
  maxNumBatchedTokens?: number;
  outputLength?: OutputLengthDistribution;
}

/** Token lag is kept in 0.05 ms bins up to 250 ms. */
const LAG_BIN_MS = 0.05;
const LAG_BINS = 5000;

export interface SimServerStats {
  engine: ReturnType<SimEngine['stats']>;
  /** How late tokens reached the socket against the engine's schedule, ms. */
  tokenLagMs: LatenessSummary;
  cpu: { userMs: number; systemMs: number };
  activeStreams: number;
}

export interface SimServer {
  url: string;
  port: number;
  engine: SimEngine;
  deployment: Deployment;
  modelName: string;
  faults(): FaultSettings;
  setFaults(f: Partial<FaultSettings>): void;
  stats(): SimServerStats;
  resetStats(): void;
  close(): Promise<void>;
}

/** Triton's ensemble model name, accepted besides the served model name. */
const TRITON_ENSEMBLE = 'ensemble';

export async function startSimServer(opts: SimServerOptions): Promise<SimServer> {
  const deployment = typeof opts.profile === 'string' ? resolveProfile(opts.profile) : opts.profile;
  const host = opts.host ?? '127.0.0.1';
  const clock = new RealClock();
  const seed = opts.seed ?? 1;
  const engine = createEngine(deployment, {
    clock,
    seed,
    maxNumSeqs: opts.maxNumSeqs,
    maxNumBatchedTokens: opts.maxNumBatchedTokens,
    outputLength: opts.outputLength,
  });
  const modelName = opts.modelName ?? deployment.modelName;
  const metrics = createSimMetrics(engine, modelName);
  const rng = createRng(seed ^ 0x5bd1e995);
  let faults: FaultSettings = { ...NO_FAULTS };
  const lag = new LatenessHistogram(LAG_BIN_MS, LAG_BINS);
  let cpuBase = process.cpuUsage();
  const streams = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  countPromptTokens(''); // load the tokenizer now rather than in the first request

  const ctx: RequestContext = { deployment, engine, modelName, metrics, rng, lag, streams, clock, pacer: new Pacer(clock), faults: () => faults };
  const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    route(ctx, req, res).catch((err: unknown) => sendError(res, err instanceof SimError ? new ApiError('invalid_request', err.message) : err));
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => sockets.delete(socket));
  });
  await listen(server, opts.port ?? 0, host);
  const port = (server.address() as AddressInfo).port;
  let refuseTimer: NodeJS.Timeout | undefined;
  let closed = false;

  const setFaults = (update: Partial<FaultSettings>): void => {
    faults = { ...faults, ...parseFaultUpdate(update) };
    if (update.refuseConnectionsMs !== undefined && update.refuseConnectionsMs > 0 && server.listening) {
      // Stop listening (new connections get ECONNREFUSED); open connections stay.
      server.close();
      clearTimeout(refuseTimer);
      refuseTimer = setTimeout(() => {
        faults = { ...faults, refuseConnectionsMs: 0 };
        if (!closed) server.listen(port, host);
      }, update.refuseConnectionsMs);
    }
  };
  ctx.setFaults = setFaults;
  if (opts.faults) setFaults(opts.faults);

  return {
    url: `http://${host}:${port}`,
    port,
    engine,
    deployment,
    modelName,
    faults: () => ({ ...faults }),
    setFaults,
    stats: () => {
      const cpu = process.cpuUsage(cpuBase);
      return {
        engine: engine.stats(),
        tokenLagMs: lag.summary(),
        cpu: { userMs: cpu.user / 1e3, systemMs: cpu.system / 1e3 },
        activeStreams: streams.size,
      };
    },
    resetStats: () => {
      lag.reset();
      cpuBase = process.cpuUsage();
    },
    close: async () => {
      closed = true;
      clearTimeout(refuseTimer);
      for (const res of streams) res.destroy();
      for (const socket of sockets) socket.destroy();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

interface RequestContext {
  deployment: Deployment;
  engine: SimEngine;
  modelName: string;
  metrics: SimMetrics;
  rng: Rng;
  lag: LatenessHistogram;
  streams: Set<ServerResponse>;
  clock: RealClock;
  /** Delivers the engine's tokens and finishes at their times (see Pacer). */
  pacer: Pacer;
  faults(): FaultSettings;
  setFaults?(f: Partial<FaultSettings>): void;
}

async function route(ctx: RequestContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  const method = req.method ?? 'GET';
  if (path === '/v1/chat/completions' || path === '/v1/completions') {
    requireMethod(method, 'POST');
    return handleOpenAI(ctx, req, res, path === '/v1/chat/completions');
  }
  const triton = /^\/v2\/models\/([^/]+)(?:\/versions\/[^/]+)?\/(generate|generate_stream)$/.exec(path);
  if (triton) {
    requireMethod(method, 'POST');
    return handleTriton(ctx, req, res, decodeURIComponent(triton[1]), triton[2] === 'generate_stream');
  }
  switch (path) {
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
        ctx.setFaults?.(parseFaultUpdate(await readJsonBody(req)));
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

/** What a request asks of the engine, after validation. */
interface Job {
  promptTokens: number;
  maxTokens: number;
  ignoreEos: boolean;
}

/** `addBos`: plain-text prompts get <|begin_of_text|> added, as vLLM's tokenizer does (chat templates carry it). */
function planJob(ctx: RequestContext, promptText: string, maxTokens: number | undefined, ignoreEos: boolean | undefined, param: string, addBos: boolean): Job {
  const promptTokens = countPromptTokens(promptText) + (addBos ? 1 : 0);
  const context = ctx.deployment.contextLength;
  // vLLM's wording, so clients that parse it keep working.
  if (maxTokens === undefined && promptTokens >= context) {
    throw new ApiError(
      'context_length_exceeded',
      `This model's maximum context length is ${context} tokens. However, you requested ${promptTokens} tokens in the messages, Please reduce the length of the messages.`,
      { param },
    );
  }
  const completion = maxTokens ?? context - promptTokens;
  if (promptTokens + completion > context) {
    throw new ApiError(
      'context_length_exceeded',
      `This model's maximum context length is ${context} tokens. However, you requested ${promptTokens + completion} tokens ` +
        `(${promptTokens} in the messages, ${completion} in the completion). Please reduce the length of the messages or completion.`,
      { param },
    );
  }
  return { promptTokens, maxTokens: completion, ignoreEos: ignoreEos === true };
}

/** Applies the request-level faults that act before any token: slow start, then the error rate. */
async function beforeFirstToken(ctx: RequestContext): Promise<void> {
  const f = ctx.faults();
  if (f.slowStartMs > 0) await new Promise((resolve) => setTimeout(resolve, f.slowStartMs));
  if (f.errorRate > 0 && ctx.rng.next() < f.errorRate) throw new ApiError('injected_fault', 'injected fault: simulated server error');
}

/** Per-request stream faults, drawn once: a stall after the first token, a cut after some token. */
interface StreamFaults {
  stallMs: number;
  disconnectAfter: number;
}

function drawStreamFaults(ctx: RequestContext, job: Job, streaming: boolean): StreamFaults {
  const f = ctx.faults();
  const stallMs = f.stallMs > 0 && ctx.rng.next() < f.stallRate ? f.stallMs : 0;
  const cut = streaming && f.disconnectRate > 0 && ctx.rng.next() < f.disconnectRate;
  return { stallMs, disconnectAfter: cut ? 1 + Math.floor(ctx.rng.next() * Math.max(1, job.maxTokens - 1)) : Number.POSITIVE_INFINITY };
}

interface Emitter {
  /** `piece` indexes the filler text (see text.ts); `index` counts the tokens sent so far, from 1. */
  token(piece: number, index: number): void;
  finish(info: FinishInfo, text: string): void;
}

/**
 * Runs one job on the engine and feeds the emitter: tokens at their scheduled times (held back while
 * a stall lasts), the finish, metrics, lag accounting, and cancellation when the client goes away.
 */
function runJob(ctx: RequestContext, job: Job, res: ServerResponse, faults: StreamFaults, emitter: Emitter, keepText: boolean): void {
  const start = ctx.clock.now();
  let firstAt = -1;
  let count = 0;
  let text = '';
  let released = faults.stallMs === 0;
  let sent = 0;
  let held: number[] = [];
  let heldFinish: FinishInfo | undefined;
  let done = false;
  let stallTimer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    released = true;
    if (res.destroyed) return;
    for (const piece of held) emitter.token(piece, ++sent);
    held = [];
    if (heldFinish) emitter.finish(heldFinish, text);
  };
  // Callbacks run on the engine's clock, never inside submit(), so they may use `handle`.
  const handle: SubmitHandle = ctx.engine.submit(job, {
    onToken: (n, atMs) => ctx.pacer.at(atMs, () => deliverTokens(n, atMs)),
    onFinish: (info) => ctx.pacer.at(info.atMs, () => deliverFinish(info)),
  });
  function deliverTokens(n: number, atMs: number): void {
    if (done) return;
    ctx.lag.record(ctx.clock.now() - atMs);
    for (let i = 0; i < n; i++) {
      count++;
      const piece = nextPiece(ctx.rng);
      if (keepText) text += pieceText(piece);
      if (firstAt < 0) {
        firstAt = atMs;
        if (!released) stallTimer = setTimeout(flush, faults.stallMs);
        emitter.token(piece, ++sent);
      } else if (released) emitter.token(piece, ++sent);
      else held.push(piece);
      if (count >= faults.disconnectAfter) {
        done = true;
        handle.cancel();
        res.destroy();
        return;
      }
    }
  }
  function deliverFinish(info: FinishInfo): void {
    if (done || info.reason === 'cancelled') return;
    done = true;
    const e2e = info.atMs - start;
    ctx.metrics.observeRequest({
      ttftS: (firstAt - start) / 1e3,
      tpotS: info.outputTokens > 1 ? (info.atMs - firstAt) / (info.outputTokens - 1) / 1e3 : undefined,
      e2eS: e2e / 1e3,
      reason: info.reason,
    });
    if (released) emitter.finish(info, text);
    else heldFinish = info;
  }
  res.on('close', () => {
    clearTimeout(stallTimer);
    if (!done) handle.cancel();
  });
}

async function handleOpenAI(ctx: RequestContext, req: IncomingMessage, res: ServerResponse, chat: boolean): Promise<void> {
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
  ctx.streams.add(res);
  res.on('close', () => ctx.streams.delete(res));
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

async function handleTriton(ctx: RequestContext, req: IncomingMessage, res: ServerResponse, name: string, stream: boolean): Promise<void> {
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
    ctx.streams.add(res);
    res.on('close', () => ctx.streams.delete(res));
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
  const apiError = err instanceof SimError ? new ApiError('invalid_request', err.message) : err instanceof ApiError ? err : new ApiError('internal_error', String(err));
  if (res.headersSent) {
    res.end(sseError(apiError.toBody()));
    return;
  }
  sendJson(res, apiError.status, { error: apiError.message });
}

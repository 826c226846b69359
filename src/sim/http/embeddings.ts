/**
 * `POST /v1/embeddings` of the simulated server, in OpenAI's shape, so the gateway's embedding tier is
 * tested and benchmarked without a GPU. Vectors are a deterministic function of the text: a sparse random
 * projection of its hashed word unigrams, word bigrams and character trigrams (scripts without spaces:
 * character unigrams and bigrams), L2-normalised. Texts sharing words and n-grams get close vectors, so a
 * head trained on them is meaningful. Latency: EMBEDDING_BASE_MS per call plus EMBEDDING_PER_TOKEN_MS per
 * input token (Llama 3 tokens, as the rest of the simulator counts), about what a small encoder (E5/BGE
 * small) costs on one GPU; the server's faults (error rate, slow start) apply as to completions.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRng, subSeed } from '../../common/rng.js';
import { ApiError, readJsonBody, sendJson } from '../../protocol/index.js';
import { countPromptTokens } from '../tokenizer.js';
import type { RequestContext } from './context.js';
import { beforeFirstToken } from './job-runner.js';

export const EMBEDDING_DIMENSION = 768;
export const EMBEDDING_BASE_MS = 4;
export const EMBEDDING_PER_TOKEN_MS = 0.02;
/** Inputs per request and characters per input read, as an encoder with a 512-token window would. */
export const MAX_INPUTS = 2048;
export const MAX_INPUT_CHARS = 8192;
/** Vector entries each n-gram touches (a sparse projection: ±1 at this many positions). */
const TOUCHES = 4;
const NO_SPACE_SCRIPT = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Thai}]/u;
const TOKEN = /[\p{L}\p{N}_]+/gu;

function addFeature(vector: Float64Array, feature: string, weight: number): void {
  const codes: number[] = [];
  for (let i = 0; i < feature.length; i++) codes.push(feature.charCodeAt(i));
  const rng = createRng(subSeed(0x5eed, ...codes));
  for (let t = 0; t < TOUCHES; t++) {
    const at = Math.floor(rng.next() * vector.length);
    vector[at] += rng.next() < 0.5 ? -weight : weight;
  }
}

/** The simulator's embedding of `text`: deterministic, unit length (a zero vector for text without words). */
export function simulatedEmbedding(text: string, dimension = EMBEDDING_DIMENSION): Float32Array {
  const v = new Float64Array(dimension);
  const words = text.slice(0, MAX_INPUT_CHARS).normalize('NFKC').toLowerCase().match(TOKEN) ?? [];
  let previous: string | undefined;
  for (const word of words) {
    if (NO_SPACE_SCRIPT.test(word)) {
      const chars = [...word];
      chars.forEach((c, i) => {
        addFeature(v, `c:${c}`, 0.5);
        if (i > 0) addFeature(v, `b:${chars[i - 1]}${c}`, 1);
      });
      previous = undefined;
      continue;
    }
    addFeature(v, `w:${word}`, 1);
    if (previous !== undefined) addFeature(v, `p:${previous} ${word}`, 0.5);
    const padded = ` ${word} `;
    for (let i = 0; i + 3 <= padded.length; i++) addFeature(v, `t:${padded.slice(i, i + 3)}`, 0.3);
    previous = word;
  }
  let sq = 0;
  for (const x of v) sq += x * x;
  const inv = sq > 0 ? 1 / Math.sqrt(sq) : 0;
  return Float32Array.from(v, (x) => x * inv);
}

function inputsOf(body: Record<string, unknown>): string[] {
  const input = body.input;
  const list = typeof input === 'string' ? [input] : input;
  if (!Array.isArray(list) || list.length === 0 || !list.every((t) => typeof t === 'string')) {
    throw new ApiError('invalid_request', "'input' must be a non-empty string or a non-empty list of strings", { param: 'input' });
  }
  if (list.length > MAX_INPUTS) throw new ApiError('invalid_request', `'input' holds ${list.length} texts, at most ${MAX_INPUTS} are accepted`, { param: 'input' });
  return list as string[];
}

export async function handleEmbeddings(ctx: RequestContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readJsonBody(req);
  if (typeof body.model !== 'string') throw new ApiError('invalid_request', "'model' must be a string", { param: 'model' });
  if (body.model !== ctx.modelName) throw new ApiError('model_not_found', `The model \`${body.model}\` does not exist. This server serves '${ctx.modelName}'.`, { param: 'model' });
  const format = body.encoding_format ?? 'float';
  if (format !== 'float' && format !== 'base64') throw new ApiError('invalid_request', "'encoding_format' must be 'float' or 'base64'", { param: 'encoding_format' });
  const inputs = inputsOf(body);
  const tokens = inputs.reduce((sum, text) => sum + countPromptTokens(text.slice(0, MAX_INPUT_CHARS)), 0);
  await beforeFirstToken(ctx);
  await new Promise((resolve) => setTimeout(resolve, EMBEDDING_BASE_MS + EMBEDDING_PER_TOKEN_MS * tokens));
  if (res.destroyed) return;
  const data = inputs.map((text, index) => {
    const vector = simulatedEmbedding(text);
    const embedding = format === 'base64' ? Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64') : Array.from(vector);
    return { object: 'embedding', index, embedding };
  });
  sendJson(res, 200, { object: 'list', data, model: ctx.modelName, usage: { prompt_tokens: tokens, total_tokens: tokens } });
}

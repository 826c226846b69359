/**
 * The head's artifact: one JSON file, weights as little-endian float32 in base64. No timestamp, so the
 * same training gives a byte-identical file.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { EmbeddingError } from './errors.js';
import { EmbeddingHead, type HeadMetadata, type HeadScripts } from './head.js';

export const HEAD_FORMAT = 'expert-router-embedding-head';
export const HEAD_VERSION = 1;

function toBase64(values: Float32Array): string {
  const bytes = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => bytes.writeFloatLE(v, i * 4));
  return bytes.toString('base64');
}

function fromBase64(text: string, what: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length % 4 !== 0) throw new EmbeddingError('head_corrupt', `${what} is not a whole number of float32 values`);
  const out = new Float32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(i * 4);
  return out;
}

export function serializeHead(head: EmbeddingHead): string {
  return `${JSON.stringify(
    {
      format: HEAD_FORMAT,
      version: HEAD_VERSION,
      provider: head.provider,
      model: head.model,
      dimension: head.dimension,
      labels: head.labels,
      max_chars: head.maxChars,
      scripts: head.scripts,
      metadata: head.metadata,
      bias: toBase64(head.bias),
      weights: toBase64(head.weights),
    },
    null,
    1,
  )}\n`;
}

export function parseHead(text: string, source: string): EmbeddingHead {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new EmbeddingError('head_corrupt', `${source}: not JSON (${(err as Error).message})`);
  }
  const o = raw as Record<string, unknown>;
  if (typeof o !== 'object' || o === null || o.format !== HEAD_FORMAT) throw new EmbeddingError('head_corrupt', `${source}: not an embedding head (format is not '${HEAD_FORMAT}')`);
  if (o.version !== HEAD_VERSION) throw new EmbeddingError('head_corrupt', `${source}: head version ${String(o.version)}, this build reads version ${HEAD_VERSION}`);
  const str = (key: string): string => {
    if (typeof o[key] !== 'string') throw new EmbeddingError('head_corrupt', `${source}: field '${key}' must be a string`);
    return o[key] as string;
  };
  const int = (key: string): number => {
    if (!Number.isInteger(o[key]) || (o[key] as number) <= 0) throw new EmbeddingError('head_corrupt', `${source}: field '${key}' must be a positive integer`);
    return o[key] as number;
  };
  if (!Array.isArray(o.labels) || !o.labels.every((l) => typeof l === 'string')) throw new EmbeddingError('head_corrupt', `${source}: field 'labels' must be a list of strings`);
  if (typeof o.metadata !== 'object' || o.metadata === null) throw new EmbeddingError('head_corrupt', `${source}: field 'metadata' must be an object`);
  try {
    return new EmbeddingHead({
      provider: str('provider'),
      model: str('model'),
      dimension: int('dimension'),
      labels: o.labels as string[],
      maxChars: int('max_chars'),
      scripts: str('scripts') as HeadScripts,
      metadata: o.metadata as HeadMetadata,
      bias: fromBase64(str('bias'), `${source}: bias`),
      weights: fromBase64(str('weights'), `${source}: weights`),
    });
  } catch (err) {
    if (err instanceof EmbeddingError) throw new EmbeddingError(err.code, `${source}: ${err.message}`);
    throw err;
  }
}

export function loadHead(path: string): EmbeddingHead {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new EmbeddingError('head_unreadable', `cannot read the embedding head ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  return parseHead(text, path);
}

export function saveHead(head: EmbeddingHead, path: string): void {
  writeFileSync(path, serializeHead(head));
}

/**
 * Hardware, model, format and engine profiles (data/profiles/*.yaml) and their combination into a
 * Deployment: the id `gpu:model:format:tpN[:engine]`, validated, with its memory budget and KV capacity.
 */
import { z } from 'zod';
import { loadYaml } from '../config/load.js';
import { SimError } from './errors.js';

const PROFILE_DIR = new URL('../../data/profiles/', import.meta.url);
const GIB = 1024 ** 3;
export const KV_BLOCK_SIZE = 16;
export const TP_DEGREES = [1, 2, 4, 8] as const;
export const DEFAULT_ENGINE = 'vllm';

const positive = z.number().positive();

const gpuSchema = z.object({
  name: z.string(),
  memory_gib: positive,
  bandwidth_gbs: positive,
  bf16_tflops: positive,
  fp8_tflops: positive.optional(),
  int8_tops: positive.optional(),
  link_gbs: positive,
  source: z.string().min(1),
});

const modelSchema = z.object({
  name: z.string(),
  layers: z.number().int().positive(),
  hidden_size: z.number().int().positive(),
  heads: z.number().int().positive(),
  kv_heads: z.number().int().positive(),
  intermediate_size: z.number().int().positive(),
  vocab_size: z.number().int().positive(),
  tie_embeddings: z.boolean(),
  context_length: z.number().int().positive(),
  source: z.string().min(1),
});

const formatSchema = z.object({
  weight_bytes: positive,
  compute: z.enum(['bf16', 'fp8', 'int8']),
  kv_bytes: positive,
  source: z.string().min(1),
});

const engineSchema = z.object({
  name: z.string(),
  max_num_seqs: z.number().int().positive(),
  max_num_batched_tokens: z.number().int().positive(),
  gpu_memory_utilization: z.number().gt(0).max(1),
  activation_reserve_gib: z.number().min(0),
  kv_follows_format: z.boolean(),
  prefill_efficiency: z.number().gt(0).max(1),
  decode_efficiency: z.number().gt(0).max(1),
  memory_efficiency: z.number().gt(0).max(1),
  step_overhead_ms: z.number().min(0),
  per_seq_overhead_us: z.number().min(0),
  allreduce_latency_us: z.number().min(0),
  /** Coefficients the fitter must leave as they are (no calibration row informs them). */
  fixed: z.array(z.string()).optional(),
});

export type GpuProfile = z.infer<typeof gpuSchema>;
export type ModelProfile = z.infer<typeof modelSchema>;
export type FormatProfile = z.infer<typeof formatSchema>;
export type EngineProfile = z.infer<typeof engineSchema>;

export interface ProfileCatalog {
  gpus: Record<string, GpuProfile>;
  models: Record<string, ModelProfile>;
  formats: Record<string, FormatProfile>;
  engines: Record<string, EngineProfile>;
}

function loadSection<T>(file: string, key: string, schema: z.ZodType<T>): Record<string, T> {
  const section = z.object({ [key]: z.record(z.string().regex(/^[a-z0-9.-]+$/), schema) });
  const doc = loadYaml(section, new URL(file, PROFILE_DIR), {
    what: 'profiles',
    error: (_code, message, cause) => new SimError('bad_profile', message, { cause }),
  });
  return doc[key] as Record<string, T>;
}

let catalog: ProfileCatalog | undefined;

/** The profiles shipped in data/profiles, loaded once. */
export function profileCatalog(): ProfileCatalog {
  catalog ??= {
    gpus: loadSection('gpus.yaml', 'gpus', gpuSchema),
    models: loadSection('models.yaml', 'models', modelSchema),
    formats: loadSection('formats.yaml', 'formats', formatSchema),
    engines: loadSection('engines.yaml', 'engines', engineSchema),
  };
  return catalog;
}

/** Everything the engine and the server need about one deployment (one tensor-parallel group). */
export interface Deployment {
  id: string;
  gpuId: string;
  modelId: string;
  formatId: string;
  engineId: string;
  gpu: GpuProfile;
  model: ModelProfile;
  format: FormatProfile;
  engine: EngineProfile;
  /** Tensor-parallel degree: the number of GPUs of the group. */
  gpus: number;
  /** The model name served (its Hugging Face id). */
  modelName: string;
  /** Parameters, from the architecture. */
  params: number;
  weightBytes: number;
  /** KV bytes per token for the whole group (all layers, K and V). */
  kvBytesPerToken: number;
  /** Memory per GPU available to the engine, minus weights and activations: what the KV cache gets. */
  kvBytesPerGpu: number;
  kvCapacityTokens: number;
  kvBlocks: number;
  /** Longest sequence (prompt + output) the deployment accepts. */
  contextLength: number;
  /** Peak dense FLOP/s of the compute path, per GPU. */
  peakFlops: number;
}

export interface MemoryFit {
  fits: boolean;
  /** Per GPU, in bytes. */
  usableBytes: number;
  weightBytesPerGpu: number;
  reserveBytes: number;
  /** Usable minus weights minus reserve: negative when the configuration does not fit. */
  kvBytesPerGpu: number;
}

export function paramCount(m: ModelProfile): { total: number; embedding: number } {
  const headDim = m.hidden_size / m.heads;
  const attention = 2 * m.hidden_size * m.hidden_size + 2 * m.hidden_size * m.kv_heads * headDim;
  const mlp = 3 * m.hidden_size * m.intermediate_size;
  const embedding = m.vocab_size * m.hidden_size * (m.tie_embeddings ? 1 : 2);
  return { total: m.layers * (attention + mlp) + embedding, embedding };
}

export function kvBytesPerToken(m: ModelProfile, kvBytes: number): number {
  return 2 * m.layers * m.kv_heads * (m.hidden_size / m.heads) * kvBytes;
}

function peakFlops(gpu: GpuProfile, format: FormatProfile): number {
  const tflops = format.compute === 'fp8' ? gpu.fp8_tflops : format.compute === 'int8' ? gpu.int8_tops : gpu.bf16_tflops;
  return (tflops ?? gpu.bf16_tflops) * 1e12;
}

export function memoryFit(gpu: GpuProfile, model: ModelProfile, format: FormatProfile, engine: EngineProfile, tp: number): MemoryFit {
  const { total, embedding } = paramCount(model);
  const weightBytes = (total - embedding) * format.weight_bytes + embedding * 2;
  const usableBytes = gpu.memory_gib * GIB * engine.gpu_memory_utilization;
  const weightBytesPerGpu = weightBytes / tp;
  const reserveBytes = engine.activation_reserve_gib * GIB;
  const kvBytesPerGpu = usableBytes - weightBytesPerGpu - reserveBytes;
  return { fits: kvBytesPerGpu > 0, usableBytes, weightBytesPerGpu, reserveBytes, kvBytesPerGpu };
}

function pick<T>(table: Record<string, T>, id: string, kind: string, profileId: string): T {
  const value = Object.hasOwn(table, id) ? table[id] : undefined;
  if (!value) {
    throw new SimError('unknown_profile', `unknown ${kind} '${id}' in profile '${profileId}' (known: ${Object.keys(table).join(', ')})`);
  }
  return value;
}

const gib = (bytes: number): string => (bytes / GIB).toFixed(2);

/** Parses and validates `gpu:model:format:tpN[:engine]`; throws SimError for unknown parts or no fit. */
export function resolveProfile(id: string): Deployment {
  const cat = profileCatalog();
  const parts = id.trim().toLowerCase().split(':');
  if (parts.length < 4 || parts.length > 5) {
    throw new SimError('bad_profile', `profile '${id}' must look like GPU:MODEL:FORMAT:tpN[:ENGINE], e.g. h100-80gb:llama-3-70b:fp8:tp2`);
  }
  const [gpuId, modelId, formatId, tpPart, engineId = DEFAULT_ENGINE] = parts;
  const gpu = pick(cat.gpus, gpuId, 'GPU', id);
  const model = pick(cat.models, modelId, 'model', id);
  const format = pick(cat.formats, formatId, 'format', id);
  const engine = pick(cat.engines, engineId, 'engine', id);
  const tp = /^tp\d+$/.test(tpPart) ? Number(tpPart.slice(2)) : NaN;
  if (!(TP_DEGREES as readonly number[]).includes(tp)) {
    throw new SimError('bad_profile', `tensor parallelism '${tpPart}' in profile '${id}' must be one of ${TP_DEGREES.map((t) => `tp${t}`).join(', ')}`);
  }
  if (model.kv_heads % tp !== 0 && tp % model.kv_heads !== 0) {
    throw new SimError('bad_profile', `tp${tp} does not divide the ${model.kv_heads} KV heads of ${modelId}`);
  }
  const fit = memoryFit(gpu, model, format, engine, tp);
  const canonical = `${gpuId}:${modelId}:${formatId}:tp${tp}:${engineId}`;
  if (!fit.fits) {
    throw new SimError(
      'no_fit',
      `${canonical} does not fit: each GPU needs ${gib(fit.weightBytesPerGpu)} GiB of weights + ${gib(fit.reserveBytes)} GiB of activations ` +
        `but has ${gib(fit.usableBytes)} GiB usable (${gpu.memory_gib} GiB x ${engine.gpu_memory_utilization}); short by ${gib(-fit.kvBytesPerGpu)} GiB per GPU`,
    );
  }
  const kvPerToken = kvBytesPerToken(model, engine.kv_follows_format ? format.kv_bytes : 2);
  const kvBlocks = Math.floor((fit.kvBytesPerGpu * tp) / kvPerToken / KV_BLOCK_SIZE);
  if (kvBlocks < 1) throw new SimError('no_fit', `${canonical} leaves no room for a single KV block`);
  const kvCapacityTokens = kvBlocks * KV_BLOCK_SIZE;
  return {
    id: canonical,
    gpuId,
    modelId,
    formatId,
    engineId,
    gpu,
    model,
    format,
    engine,
    gpus: tp,
    modelName: model.name,
    params: paramCount(model).total,
    weightBytes: fit.weightBytesPerGpu * tp,
    kvBytesPerToken: kvPerToken,
    kvBytesPerGpu: fit.kvBytesPerGpu,
    kvCapacityTokens,
    kvBlocks,
    contextLength: Math.min(model.context_length, kvCapacityTokens),
    peakFlops: peakFlops(gpu, format),
  };
}

export interface ProfileListing {
  id: string;
  fits: boolean;
  weightGibPerGpu: number;
  usableGibPerGpu: number;
  /** KV capacity in tokens when it fits; otherwise 0. */
  kvCapacityTokens: number;
  /** GiB per GPU missing when it does not fit; otherwise 0. */
  shortGib: number;
}

/** Every combination of the shipped profiles, with memory fit and KV capacity. */
export function listProfiles(): ProfileListing[] {
  const cat = profileCatalog();
  const out: ProfileListing[] = [];
  for (const engineId of Object.keys(cat.engines)) {
    for (const gpuId of Object.keys(cat.gpus)) {
      for (const modelId of Object.keys(cat.models)) {
        for (const formatId of Object.keys(cat.formats)) {
          for (const tp of TP_DEGREES) {
            const fit = memoryFit(cat.gpus[gpuId], cat.models[modelId], cat.formats[formatId], cat.engines[engineId], tp);
            let kvCapacityTokens = 0;
            if (fit.fits) {
              const kvPerToken = kvBytesPerToken(cat.models[modelId], cat.engines[engineId].kv_follows_format ? cat.formats[formatId].kv_bytes : 2);
              kvCapacityTokens = Math.floor((fit.kvBytesPerGpu * tp) / kvPerToken / KV_BLOCK_SIZE) * KV_BLOCK_SIZE;
            }
            out.push({
              id: `${gpuId}:${modelId}:${formatId}:tp${tp}:${engineId}`,
              fits: fit.fits,
              weightGibPerGpu: fit.weightBytesPerGpu / GIB,
              usableGibPerGpu: fit.usableBytes / GIB,
              kvCapacityTokens,
              shortGib: fit.fits ? 0 : -fit.kvBytesPerGpu / GIB,
            });
          }
        }
      }
    }
  }
  return out;
}

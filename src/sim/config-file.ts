/**
 * A YAML file describing several simulated servers in one process, e.g.
 *
 *   servers:
 *     - { profile: h100-80gb:llama-3-8b:fp8:tp1, port: 8001, model_name: expert-code }
 *     - { profile: h100-80gb:llama-3-70b:fp8:tp2:trtllm, port: 8002, faults: { error_rate: 0.01 } }
 *
 * Keys are snake_case, the faults' too (error_rate, stall_ms, ...: FaultSettings' fields).
 */
import { z } from 'zod';
import { loadYaml, parseYaml, type YamlErrorFactory } from '../config/load.js';
import { SimError } from './errors.js';
import { faultSettingsSchema, type FaultSettings } from './faults.js';
import { outputLengthSchema } from './output-length.js';
import { startSimServer, type SimServer, type SimServerOptions } from './http/server.js';

const serverSchema = z.strictObject({
  profile: z.string().min(1),
  host: z.string().optional(),
  port: z.number().int().min(0).max(65535).optional(),
  seed: z.number().int().optional(),
  model_name: z.string().min(1).optional(),
  max_num_seqs: z.number().int().positive().optional(),
  max_num_batched_tokens: z.number().int().positive().optional(),
  output_length: outputLengthSchema.optional(),
  faults: snakeCaseFaults().optional(),
});

const fileSchema = z.strictObject({ servers: z.array(serverSchema).min(1, 'servers must list at least one server') });

/** The fault settings as the file writes them: every field of FaultSettings in snake_case, each optional. */
function snakeCaseFaults(): z.ZodType<Partial<FaultSettings>> {
  const fields = Object.keys(faultSettingsSchema.shape) as (keyof FaultSettings)[];
  const snake = (field: string): string => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  const shape = Object.fromEntries(fields.map((f) => [snake(f), faultSettingsSchema.shape[f].optional()]));
  return z.strictObject(shape).transform((written) => {
    const settings: Partial<FaultSettings> = {};
    for (const f of fields) {
      const value = written[snake(f)];
      if (value !== undefined) settings[f] = value;
    }
    return settings;
  });
}

const simConfigError: YamlErrorFactory = (_code, message, cause) => new SimError('bad_config', message, { cause });

type SimConfigFile = z.output<typeof fileSchema>;

export function parseSimConfig(text: string, origin = 'config'): SimServerOptions[] {
  return toServerOptions(parseYaml(fileSchema, text, origin, { error: simConfigError }));
}

function toServerOptions(file: SimConfigFile): SimServerOptions[] {
  return file.servers.map((s) => ({
    profile: s.profile,
    host: s.host,
    port: s.port,
    seed: s.seed,
    modelName: s.model_name,
    maxNumSeqs: s.max_num_seqs,
    maxNumBatchedTokens: s.max_num_batched_tokens,
    outputLength: s.output_length,
    faults: s.faults,
  }));
}

export function loadSimConfig(path: string): SimServerOptions[] {
  return toServerOptions(loadYaml(fileSchema, path, { what: 'simulator config', error: simConfigError }));
}

/** Starts every server; if one fails, closes those already started and rethrows. */
export async function startSimServers(options: SimServerOptions[]): Promise<SimServer[]> {
  const started: SimServer[] = [];
  try {
    for (const o of options) started.push(await startSimServer(o));
    return started;
  } catch (err) {
    await Promise.all(started.map((s) => s.close()));
    throw err;
  }
}

/**
 * A YAML file describing several simulated servers in one process, e.g.
 *
 *   servers:
 *     - { profile: h100-80gb:llama-3-8b:fp8:tp1, port: 8001, model_name: expert-code }
 *     - { profile: h100-80gb:llama-3-70b:fp8:tp2:trtllm, port: 8002, faults: { errorRate: 0.01 } }
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { SimError } from './errors.js';
import { faultSettingsSchema } from './faults.js';
import { outputLengthSchema } from './output-length.js';
import { startSimServer, type SimServer, type SimServerOptions } from './server.js';

const serverSchema = z.strictObject({
  profile: z.string().min(1),
  host: z.string().optional(),
  port: z.number().int().min(0).max(65535).optional(),
  seed: z.number().int().optional(),
  model_name: z.string().min(1).optional(),
  max_num_seqs: z.number().int().positive().optional(),
  max_num_batched_tokens: z.number().int().positive().optional(),
  output_length: outputLengthSchema.optional(),
  faults: faultSettingsSchema.partial().optional(),
});

const fileSchema = z.strictObject({ servers: z.array(serverSchema).min(1, 'servers must list at least one server') });

export function parseSimConfig(text: string, origin = 'config'): SimServerOptions[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new SimError('bad_config', `${origin}: not valid YAML: ${(err as Error).message}`);
  }
  const parsed = fileSchema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SimError('bad_config', `${origin}: ${issue.path.join('.') || 'file'}: ${issue.message}`);
  }
  return parsed.data.servers.map((s) => ({
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
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SimError('bad_config', `cannot read ${path}: ${(err as Error).message}`);
  }
  return parseSimConfig(text, path);
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

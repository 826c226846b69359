/**
 * The experiment spec: configurations (routed or single deployments) × a load plan. Validated with zod;
 * every error names the key at fault.
 */
import { z } from 'zod';
import { ExpertRouterError } from '../common/errors.js';
import { loadYaml, validate, type ConfigErrorCode, type YamlErrorFactory } from '../config/load.js';

const profileId = z.string().regex(/^[a-z0-9.-]+:[a-z0-9.-]+:[a-z0-9]+:tp\d+(:[a-z0-9-]+)?$/, 'expected GPU:MODEL:FORMAT:tpN[:ENGINE], e.g. h100-80gb:llama-3-8b:bf16:tp1');

/** An expert (or the single model) is either simulated from a profile or a real endpoint. */
const backendFields = {
  profile: profileId.optional(),
  endpoints: z.array(z.url()).min(1).optional(),
  protocol: z.enum(['openai', 'triton']).default('openai'),
  model: z.string().min(1).optional(),
  replicas: z.number().int().min(1).max(64).default(1),
  /** GPUs each replica uses, for real endpoints (a profile states its own through its TP degree). */
  gpus_per_replica: z.number().int().min(1).optional(),
};

function oneBackend(value: { profile?: string; endpoints?: string[] }, ctx: z.RefinementCtx): void {
  if ((value.profile === undefined) === (value.endpoints === undefined)) {
    ctx.addIssue({ code: 'custom', message: 'give exactly one of profile (simulated) or endpoints (real servers)' });
  }
}

const expertSchema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, _ . -'),
    match: z.array(z.union([z.string().min(1), z.number().int().min(0)])).min(1),
    ...backendFields,
  })
  .superRefine(oneBackend);

/** `count` copies of one expert, matching clusters 0..count-1 (the paper's: cluster i -> expert i). */
const expertGroupSchema = z
  .strictObject({
    count: z.number().int().min(1).max(64),
    name_prefix: z.string().default('expert-'),
    ...backendFields,
  })
  .superRefine(oneBackend);

const classifierSchema = z.strictObject({
  /** A trained model file; otherwise the built-in default, or one trained for this config. */
  model: z.string().optional(),
  /** Train an unsupervised model on the prompts with this many clusters ('experts': one per expert). */
  train_k: z.union([z.number().int().min(2), z.literal('experts')]).optional(),
});

const routerConfigSchema = z.strictObject({
  name: z.string().min(1),
  kind: z.literal('router'),
  gpus: z.number().int().min(1).optional(),
  classifier: classifierSchema.default({}),
  experts: z.union([z.array(expertSchema).min(1), expertGroupSchema]),
  default_expert: z.string().optional(),
});

const singleConfigSchema = z
  .strictObject({
    name: z.string().min(1),
    kind: z.literal('single'),
    gpus: z.number().int().min(1).optional(),
    ...backendFields,
  })
  .superRefine(oneBackend);

const sloSchema = z.strictObject({
  ttft_ms: z.number().positive().optional(),
  tpot_ms: z.number().positive().optional(),
  e2e_ms: z.number().positive().optional(),
});

const loadSchema = z.strictObject({
  users: z.array(z.number().int().min(1).max(100_000)).min(1),
  duration_s: z.number().positive().default(60),
  warmup_s: z.number().min(0).default(10),
  ramp_up_s: z.number().min(0).default(0),
  think_time_ms: z.number().min(0).default(0),
  think_time: z.enum(['fixed', 'exponential']).default('fixed'),
  /** JSONL prompt file; default: the project's corpus. */
  prompts: z.string().optional(),
  max_tokens: z.number().int().min(1).default(256),
  ignore_eos: z.boolean().default(false),
  slo: sloSchema.default({ ttft_ms: 2000, tpot_ms: 100 }),
});

export const experimentSpecSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  seed: z.number().int().default(1),
  load: loadSchema,
  configs: z
    .array(z.discriminatedUnion('kind', [routerConfigSchema, singleConfigSchema]))
    .min(1)
    .superRefine((configs, ctx) => {
      const seen = new Set<string>();
      configs.forEach((c, i) => {
        if (seen.has(c.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate config name '${c.name}'` });
        seen.add(c.name);
      });
    }),
  /** The statements the report checks against this run's numbers (the paper preset's findings). */
  findings: z.enum(['paper']).optional(),
});

export type ExperimentSpec = z.infer<typeof experimentSpecSchema>;
export type ConfigSpec = ExperimentSpec['configs'][number];
export type RouterConfigSpec = Extract<ConfigSpec, { kind: 'router' }>;
export type SingleConfigSpec = Extract<ConfigSpec, { kind: 'single' }>;
/** The spec's load plan (levels, duration, prompts, SLOs); the harness's LoadSpec is one level's load model. */
export type LoadPlan = ExperimentSpec['load'];

export type SpecErrorCode = ConfigErrorCode | 'unknown_preset';

/** A spec that cannot be run; the message names the file (or preset) and the key at fault. */
export class SpecError extends ExpertRouterError<SpecErrorCode> {
  constructor(message: string, options: { code?: SpecErrorCode; cause?: unknown } = {}) {
    super(options.code ?? 'config_invalid', message, options);
  }
}

const specError: YamlErrorFactory = (code, message, cause) => new SpecError(message, { code, cause });

/** Validates a parsed spec; the error lists every problem with its key path. */
export function parseExperimentSpec(value: unknown, source = 'spec'): ExperimentSpec {
  return validate(experimentSpecSchema, value, source, { error: specError });
}

export function loadExperimentSpec(path: string): ExperimentSpec {
  return loadYaml(experimentSpecSchema, path, { what: 'experiment spec', error: specError });
}

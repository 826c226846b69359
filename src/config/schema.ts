/** The gateway configuration (YAML keys as written), validated with zod; defaults from defaults.ts. */
import { z } from 'zod';
import { CLASSIFY_FIELDS, CONFIG_DEFAULTS, DEFAULT_CLASSIFY_FIELDS } from './defaults.js';

const httpUrl = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.pathname.replace(/\/+$/, '') === '' && !url.search;
  } catch {
    return false;
  }
}, 'invalid URL (expected http(s)://host:port, without a path)');

const positiveInt = z.number().int().positive();

export const expertSchema = z.strictObject({
  name: z.string().min(1).regex(/^[A-Za-z0-9._:-]+$/, 'name may hold letters, digits and . _ : - only'),
  protocol: z.enum(['openai', 'triton']),
  /** Model name sent upstream (Triton: the model in /v2/models/{model}/generate). */
  model: z.string().min(1),
  endpoints: z.array(httpUrl).min(1, 'an expert needs at least one endpoint'),
  /** Classifier labels or cluster ids this expert serves. */
  match: z.array(z.union([z.string().min(1), z.number().int().nonnegative()])).default([]),
  max_concurrency: positiveInt.optional(),
  /** First-token timeout in milliseconds. */
  timeout_ms: positiveInt.default(CONFIG_DEFAULTS.firstTokenTimeoutMs),
  /** Triton only: chat template used to render messages into text_input. */
  chat_template: z.enum(['llama3', 'plain']).default('llama3'),
  /** Triton only: max_tokens when the request gives none. */
  default_max_tokens: positiveInt.default(CONFIG_DEFAULTS.tritonMaxTokens),
  /** Sent upstream as "authorization: Bearer <api_key>". */
  api_key: z.string().min(1).optional(),
  /** Cap on pooled connections per replica (default: unlimited). */
  connections: positiveInt.optional(),
});

export const gatewayConfigSchema = z
  .strictObject({
    listen: z.strictObject({
      host: z.string().min(1).default(CONFIG_DEFAULTS.host),
      port: z.number().int().min(0).max(65535).default(CONFIG_DEFAULTS.port),
    }).prefault({}),
    classifier: z.strictObject({ model: z.string().min(1).optional() }).prefault({}),
    classify: z.strictObject({
      fields: z.array(z.enum(CLASSIFY_FIELDS)).min(1).default([...DEFAULT_CLASSIFY_FIELDS]),
    }).prefault({}),
    experts: z.array(expertSchema).min(1, 'at least one expert is needed'),
    /** Takes what no expert matches; default: the first expert. */
    default_expert: z.string().min(1).optional(),
    limits: z.strictObject({
      body_bytes: positiveInt.default(CONFIG_DEFAULTS.bodyLimitBytes),
      max_queue: z.number().int().nonnegative().default(CONFIG_DEFAULTS.maxQueue),
    }).prefault({}),
    health: z.strictObject({
      interval_ms: positiveInt.default(CONFIG_DEFAULTS.healthIntervalMs),
      timeout_ms: positiveInt.default(CONFIG_DEFAULTS.healthTimeoutMs),
    }).prefault({}),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.experts.forEach((expert, i) => {
      if (expert.name === 'auto') ctx.addIssue({ code: 'custom', path: ['experts', i, 'name'], message: "'auto' is reserved" });
      if (seen.has(expert.name)) ctx.addIssue({ code: 'custom', path: ['experts', i, 'name'], message: `duplicate expert name '${expert.name}'` });
      seen.add(expert.name);
    });
    if (config.default_expert !== undefined && !seen.has(config.default_expert)) {
      ctx.addIssue({ code: 'custom', path: ['default_expert'], message: `no expert is named '${config.default_expert}'` });
    }
  });

/** The configuration as written (defaults optional), e.g. for building one in code. */
export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;
/** The validated configuration with every default filled in. */
export type GatewayConfig = z.output<typeof gatewayConfigSchema>;
export type ExpertConfig = z.output<typeof expertSchema>;
export type ClassifyField = (typeof CLASSIFY_FIELDS)[number];

/**
 * The gateway configuration (YAML keys as written), validated with zod; defaults from defaults.ts.
 * Any string value may be a `${ENV_VAR}` or `file:/path` reference (references.ts), resolved
 * before validation, so secrets never need to be written in the file.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { CLASSIFY_FIELDS, CONFIG_DEFAULTS, DEFAULT_CLASSIFY_FIELDS, TRANSPORT_DEFAULTS, UNKNOWN_MODEL_POLICIES } from './defaults.js';
import { resolveReferences } from './references.js';

/** An http(s) base URL; it may carry a path prefix (`http://host:8000/v1`), never a query. */
const httpUrl = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && !url.search && !url.hash && !url.username && !url.password;
  } catch {
    return false;
  }
}, 'invalid URL (expected http(s)://host:port, optionally with a path prefix such as /v1)');

/** The path prefix of an endpoint ('' for none), without the trailing slash. */
export function endpointPrefix(url: string): string {
  return new URL(url).pathname.replace(/\/+$/, '');
}

/** Characters that must never reach an HTTP header (CR, LF, NUL and the other controls but tab). */
// eslint-disable-next-line no-control-regex -- the point is to find control characters
const HEADER_UNSAFE = /[\x00-\x08\x0a-\x1f\x7f]/;
const headerValue = z.string().min(1).refine((v) => !HEADER_UNSAFE.test(v), 'must not contain CR, LF or other control characters (it is sent as an HTTP header)');

const positiveInt = z.number().int().positive();
const probability = z.number().min(0).max(1);
const expertName = z.string().min(1).regex(/^[A-Za-z0-9._:-]+$/, 'name may hold letters, digits and . _ : - only');

export const expertSchema = z.strictObject({
  name: expertName,
  protocol: z.enum(['openai', 'triton']),
  /** Model name sent upstream (Triton: the model in /v2/models/{model}/generate). */
  model: z.string().min(1),
  endpoints: z.array(httpUrl).min(1, 'an expert needs at least one endpoint'),
  /** Classifier labels or cluster ids this expert serves. */
  match: z.array(z.union([z.string().min(1), z.number().int().nonnegative()])).default([]),
  /** Classifications for this expert less sure than this go to the default expert (default: routing.confidence_threshold). */
  confidence_threshold: probability.optional(),
  max_concurrency: positiveInt.optional(),
  /** First-token timeout in milliseconds. */
  timeout_ms: positiveInt.default(CONFIG_DEFAULTS.firstTokenTimeoutMs),
  /** Triton only: chat template used to render messages into text_input. */
  chat_template: z.enum(['llama3', 'plain']).default('llama3'),
  /** Triton only: max_tokens when the request gives none. */
  default_max_tokens: positiveInt.default(CONFIG_DEFAULTS.tritonMaxTokens),
  /** Sent upstream as "authorization: Bearer <api_key>"; write it as ${ENV_VAR} or file:/path. */
  api_key: headerValue.optional(),
  /** Cap on pooled connections per replica (default: unlimited). */
  connections: positiveInt.optional(),
  /** A stream with no byte from the expert for this long ends with an error event. */
  idle_timeout_ms: positiveInt.default(TRANSPORT_DEFAULTS.streamIdleTimeoutMs),
  /** Optional limit on a whole request, first byte to last. */
  deadline_ms: positiveInt.optional(),
});

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

/** SHA-256 of a client key, lowercase hex: the only form in which the gateway keeps keys. */
export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** A client API key: the secret itself (`key`, best as a reference) or its SHA-256 (`sha256`). */
const clientKeySchema = z
  .strictObject({
    /** Who holds it, for logs and metrics (never the key). */
    name: z.string().min(1).regex(/^[A-Za-z0-9._:@-]+$/, 'name may hold letters, digits and . _ : @ - only'),
    key: z.string().min(16, 'a client key needs at least 16 characters').optional(),
    sha256: z.string().regex(SHA256_HEX, 'must be 64 hex digits (the SHA-256 of the key)').optional(),
    /** Experts this key may use (default: all). */
    experts: z.array(z.string().min(1)).min(1).optional(),
    requests_per_minute: positiveInt.optional(),
    /** Prompt plus completion tokens per minute, as the experts report them. */
    tokens_per_minute: positiveInt.optional(),
    /** May call /admin/*, see /readyz detail and scrape /metrics when auth is on. */
    admin: z.boolean().default(false),
  })
  .superRefine((k, ctx) => {
    if ((k.key === undefined) === (k.sha256 === undefined)) ctx.addIssue({ code: 'custom', message: "give exactly one of 'key' and 'sha256'" });
  })
  .transform(({ key, sha256, ...rest }) => ({ ...rest, sha256: (sha256 ?? hashKey(key!)).toLowerCase() }));

/**
 * The embedding tier (docs/embedding-tier.md): off unless present; keys left out take the tier's
 * defaults (src/classifier/embedding/create.ts).
 */
const embeddingSchema = z
  .strictObject({
    provider: z.enum(['in-process', 'remote']),
    threshold: probability.optional(),
    weight: probability.optional(),
    timeout_ms: positiveInt.optional(),
    max_pending: positiveInt.optional(),
    cache_size: z.number().int().nonnegative().optional(),
    head: z.string().min(1).optional(),
    endpoint: httpUrl.optional(),
    model: z.string().min(1).optional(),
    api_key: headerValue.optional(),
    dimension: positiveInt.optional(),
    workers: positiveInt.optional(),
    max_queue: z.number().int().nonnegative().optional(),
  })
  .superRefine((tier, ctx) => {
    if (tier.provider !== 'remote') return;
    for (const key of ['endpoint', 'model', 'head'] as const) {
      if (tier[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: `required for the remote provider${key === 'head' ? ' (train one with expert-router train-head)' : ''}` });
    }
  });

const configObjectSchema = z
  .strictObject({
    listen: z.strictObject({
      host: z.string().min(1).default(CONFIG_DEFAULTS.host),
      port: z.number().int().min(0).max(65535).default(CONFIG_DEFAULTS.port),
      /** Serve a non-loopback address without auth.keys (refused otherwise). */
      allow_unauthenticated: z.boolean().default(false),
    }).prefault({}),
    classifier: z.strictObject({ model: z.string().min(1).optional(), embedding: embeddingSchema.optional() }).prefault({}),
    classify: z.strictObject({
      fields: z.array(z.enum(CLASSIFY_FIELDS)).min(1).default([...DEFAULT_CLASSIFY_FIELDS]),
    }).prefault({}),
    routing: z.strictObject({
      /** `model` values that mean "classify" (besides them, an expert's name or upstream model pins it). */
      aliases: z.array(z.string().min(1)).min(1).default([...CONFIG_DEFAULTS.aliases]),
      /** Any other `model`: 404 model_not_found (reject), or classified as an alias. */
      unknown_model: z.enum(UNKNOWN_MODEL_POLICIES).default('reject'),
      confidence_threshold: probability.default(CONFIG_DEFAULTS.confidenceThreshold),
      /** Conversations named by the client's x-session-id header stay with their first expert. */
      sessions: z.strictObject({
        ttl_s: positiveInt.default(CONFIG_DEFAULTS.sessionTtlS),
        max_entries: z.number().int().nonnegative().default(CONFIG_DEFAULTS.sessionMaxEntries),
      }).prefault({}),
    }).prefault({}),
    experts: z.array(expertSchema).min(1, 'at least one expert is needed'),
    /** Takes what no expert matches, low-confidence and text-less requests; default: the first expert. */
    default_expert: z.string().min(1).optional(),
    auth: z.strictObject({ keys: z.array(clientKeySchema).default([]) }).prefault({}),
    /** Show replica addresses to clients (x-expert-router-replica, /v1/route, /readyz). */
    expose_topology: z.boolean().default(false),
    limits: z.strictObject({
      body_bytes: positiveInt.default(CONFIG_DEFAULTS.bodyLimitBytes),
      max_queue: z.number().int().nonnegative().default(CONFIG_DEFAULTS.maxQueue),
      /** How long a request waits for an admission slot before 503 queue_timeout. */
      queue_wait_ms: positiveInt.default(TRANSPORT_DEFAULTS.queueWaitMs),
      /** Open client connections beyond this are refused with a 503. */
      client_connections: positiveInt.default(TRANSPORT_DEFAULTS.clientConnections),
      /** Idle keep-alive client connections are closed after this long. */
      client_keep_alive_ms: positiveInt.default(TRANSPORT_DEFAULTS.clientKeepAliveMs),
      /** A client that reads nothing for this long is cut off (upstream closed, slot freed). */
      send_timeout_ms: positiveInt.default(TRANSPORT_DEFAULTS.sendTimeoutMs),
    }).prefault({}),
    /** Circuit breaker and outlier ejection per replica. */
    resilience: z.strictObject({
      breaker_failures: positiveInt.default(TRANSPORT_DEFAULTS.breakerFailures),
      breaker_open_ms: positiveInt.default(TRANSPORT_DEFAULTS.breakerOpenMs),
      outlier_consecutive_failures: positiveInt.default(TRANSPORT_DEFAULTS.outlierConsecutiveFailures),
      outlier_base_ejection_ms: positiveInt.default(TRANSPORT_DEFAULTS.outlierBaseEjectionMs),
      outlier_max_ejection_ms: positiveInt.default(TRANSPORT_DEFAULTS.outlierMaxEjectionMs),
    }).prefault({}),
    health: z.strictObject({
      interval_ms: positiveInt.default(CONFIG_DEFAULTS.healthIntervalMs),
      timeout_ms: positiveInt.default(CONFIG_DEFAULTS.healthTimeoutMs),
    }).prefault({}),
    shutdown: z.strictObject({
      /** Seconds in-flight requests get after SIGTERM before they are ended with an error. */
      drain_s: z.number().nonnegative().default(CONFIG_DEFAULTS.drainS),
    }).prefault({}),
    log: z.strictObject({
      /** One JSON line per request on the gateway's log. */
      access: z.boolean().default(true),
      /** Put the classified text into the access log (off: prompts are never logged). */
      prompts: z.boolean().default(false),
    }).prefault({}),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    const aliases = new Set(config.routing.aliases);
    config.experts.forEach((expert, i) => {
      if (aliases.has(expert.name)) ctx.addIssue({ code: 'custom', path: ['experts', i, 'name'], message: `'${expert.name}' is a routing alias` });
      if (aliases.has(expert.model)) ctx.addIssue({ code: 'custom', path: ['experts', i, 'model'], message: `'${expert.model}' is a routing alias; a request naming it could not reach this expert directly` });
      if (seen.has(expert.name)) ctx.addIssue({ code: 'custom', path: ['experts', i, 'name'], message: `duplicate expert name '${expert.name}'` });
      seen.add(expert.name);
      const prefixes = new Set(expert.endpoints.flatMap((url) => (URL.canParse(url) ? [endpointPrefix(url)] : [])));
      if (prefixes.size > 1) ctx.addIssue({ code: 'custom', path: ['experts', i, 'endpoints'], message: `every endpoint of an expert needs the same path prefix (got ${[...prefixes].map((p) => `'${p || '/'}'`).join(', ')})` });
    });
    config.experts.forEach((expert, i) => {
      const other = config.experts.find((e) => e !== expert && e.name === expert.model);
      if (other) ctx.addIssue({ code: 'custom', path: ['experts', i, 'model'], message: `'${expert.model}' is the name of expert '${other.name}'; a request naming it would be ambiguous` });
    });
    if (config.default_expert !== undefined && !seen.has(config.default_expert)) {
      ctx.addIssue({ code: 'custom', path: ['default_expert'], message: `no expert is named '${config.default_expert}'` });
    }
    const names = new Set<string>();
    const hashes = new Set<string>();
    config.auth.keys.forEach((key, i) => {
      if (names.has(key.name)) ctx.addIssue({ code: 'custom', path: ['auth', 'keys', i, 'name'], message: `duplicate key name '${key.name}'` });
      if (hashes.has(key.sha256)) ctx.addIssue({ code: 'custom', path: ['auth', 'keys', i], message: 'the same key is listed twice' });
      names.add(key.name);
      hashes.add(key.sha256);
      key.experts?.forEach((name, j) => {
        if (!seen.has(name)) ctx.addIssue({ code: 'custom', path: ['auth', 'keys', i, 'experts', j], message: `no expert is named '${name}'` });
      });
    });
  });

/** `${ENV_VAR}` and `file:` references resolved, each problem reported at its key. */
function withReferences(value: unknown, ctx: z.RefinementCtx): unknown {
  const { value: resolved, problems } = resolveReferences(value);
  for (const p of problems) ctx.addIssue({ code: 'custom', path: p.path, message: p.message, input: undefined });
  return resolved;
}

export const gatewayConfigSchema = z.preprocess(withReferences, configObjectSchema);

/** The configuration as written (defaults optional), e.g. for building one in code. */
export type GatewayConfigInput = z.input<typeof configObjectSchema>;
/** The validated configuration with every default filled in. */
export type GatewayConfig = z.output<typeof gatewayConfigSchema>;
export type ExpertConfig = z.output<typeof expertSchema>;
export type ClientKeyConfig = z.output<typeof clientKeySchema>;
export type ClassifyField = (typeof CLASSIFY_FIELDS)[number];

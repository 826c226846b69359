/**
 * summary.json, the versioned result of one bench run (schema "expert-router/bench-summary", v1).
 *
 * ```
 * {
 *   schema: "expert-router/bench-summary", version: 1,
 *   meta: { name, target, protocol: "openai"|"triton", model, mode: "closed"|"open",
 *           started_at, finished_at (ISO 8601), seed, prompt_source, prompts, settings{...} },
 *   levels: [ {                        one per load level, in sweep order
 *     level, label, mode, users? (closed loop), rate? (open loop, offered req/s),
 *     offered_rate_per_s (null in closed loop), achieved_rate_per_s,
 *     duration_s (T: first send to last completion of the measured requests), window{start_ms,end_ms},
 *     requests, completed, errors, error_rate, errors_by_kind{kind: count}, warmup_requests,
 *     ttft_ms, tpot_ms, itl_ms, e2e_ms, ntpot_ms: {count, mean, p50, p90, p99, max} (ms; null if no sample),
 *     send_lag_ms (open loop: send time minus scheduled time; else null),
 *     requests_per_s, output_tokens_per_s, goodput_per_s, slo{ttft_ms?,tpot_ms?,e2e_ms?}|null,
 *     slo_attainment, output_tokens, tokens_source{usage, counted}, prompt_tokens_mean,
 *     per_expert{expert: {requests, completed, errors, share, output_tokens, output_tokens_per_s, ttft_ms, e2e_ms}},
 *     client?{event_loop_delay_ms{p50,p99,max}, cpu_ms_per_request, cpu_percent, trusted, warnings[]}
 *   } ],
 *   infra: [ { target (scraped URL), metric, points: [[run-clock ms, value], ...] } ],
 *   warnings: [ "..." ]
 * }
 * ```
 * Metric definitions: docs/architecture.md "Metric definitions" (implemented once, in metrics.ts). Times in
 * `window`, `infra` and records.jsonl are milliseconds on the run clock (0 = start of the run).
 * Additive changes keep version 1; a renamed or removed field bumps it.
 */
import { z } from 'zod';

export const SUMMARY_SCHEMA_ID = 'expert-router/bench-summary';
export const SUMMARY_VERSION = 1;

const num = z.number().nullable();
export const statsSchema = z.object({ count: z.number(), mean: num, p50: num, p90: num, p99: num, max: num });

const sloSchema = z.object({ ttft_ms: z.number().optional(), tpot_ms: z.number().optional(), e2e_ms: z.number().optional() });

const expertSchema = z.object({
  requests: z.number(),
  completed: z.number(),
  errors: z.number(),
  share: z.number(),
  output_tokens: z.number(),
  output_tokens_per_s: z.number(),
  ttft_ms: statsSchema,
  e2e_ms: statsSchema,
});

const clientSchema = z.object({
  event_loop_delay_ms: z.object({ p50: z.number(), p99: z.number(), max: z.number() }),
  cpu_ms_per_request: num,
  cpu_percent: z.number(),
  trusted: z.boolean(),
  warnings: z.array(z.string()),
});

export const levelSummarySchema = z.object({
  level: z.number(),
  label: z.string(),
  mode: z.enum(['closed', 'open']),
  users: z.number().optional(),
  rate: z.number().optional(),
  offered_rate_per_s: num,
  achieved_rate_per_s: z.number(),
  duration_s: z.number(),
  window: z.object({ start_ms: z.number(), end_ms: z.number() }).nullable(),
  requests: z.number(),
  completed: z.number(),
  errors: z.number(),
  error_rate: z.number(),
  errors_by_kind: z.record(z.string(), z.number()),
  warmup_requests: z.number(),
  ttft_ms: statsSchema,
  tpot_ms: statsSchema,
  itl_ms: statsSchema,
  e2e_ms: statsSchema,
  ntpot_ms: statsSchema,
  send_lag_ms: statsSchema.nullable(),
  requests_per_s: z.number(),
  output_tokens_per_s: z.number(),
  goodput_per_s: z.number(),
  slo: sloSchema.nullable(),
  slo_attainment: num,
  output_tokens: z.number(),
  tokens_source: z.object({ usage: z.number(), counted: z.number() }),
  prompt_tokens_mean: num,
  per_expert: z.record(z.string(), expertSchema),
  client: clientSchema.optional(),
});

export const infraSeriesSchema = z.object({
  target: z.string(),
  metric: z.string(),
  points: z.array(z.tuple([z.number(), z.number()])),
});

export const benchSummarySchema = z.object({
  schema: z.literal(SUMMARY_SCHEMA_ID),
  version: z.literal(SUMMARY_VERSION),
  meta: z.object({
    name: z.string(),
    target: z.string(),
    protocol: z.enum(['openai', 'triton']),
    model: z.string(),
    mode: z.enum(['closed', 'open']),
    started_at: z.string(),
    finished_at: z.string(),
    seed: z.number(),
    prompt_source: z.string(),
    prompts: z.number(),
    settings: z.record(z.string(), z.unknown()),
  }),
  levels: z.array(levelSummarySchema),
  infra: z.array(infraSeriesSchema),
  warnings: z.array(z.string()),
});

export type BenchSummary = z.infer<typeof benchSummarySchema>;

/**
 * The calibration table (data/calibration.yaml): published measurements, each with its source, and
 * the virtual-time runs that reproduce each row's workload on the simulator.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { VirtualClock } from './clock.js';
import { createEngine } from './engine.js';
import { SimError } from './errors.js';
import { createStepModel } from './perf-model.js';
import { createRng } from '../common/rng.js';
import { resolveProfile, type Deployment, type EngineProfile } from './profiles.js';

const TABLE_URL = new URL('../../data/calibration.yaml', import.meta.url);
export const DEFAULT_TOLERANCE = 0.15;

const workloadSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('offline'), input: z.number().int().positive(), output: z.number().int().positive(), requests: z.number().int().positive() }),
  z.object({
    kind: z.literal('closed'),
    input: z.number().int().positive(),
    output: z.number().int().positive(),
    /** Standard deviations of the lengths (llmperf draws them from normal distributions). */
    input_stddev: z.number().min(0).default(0),
    output_stddev: z.number().min(0).default(0),
    concurrency: z.number().int().positive(),
    requests: z.number().int().positive(),
    /**
     * The client launches `concurrency` requests, then waits for all of them to finish before the next
     * wave (llmperf before its commit f1d6bed of December 2024); otherwise each user sends its next
     * request as soon as its previous one ends.
     */
    waves: z.boolean().default(false),
    /**
     * Tokens the client counts per token of the served model: `input` and the counted output are in
     * the client's tokens (llmperf before December 2024 counts with the Llama 2 tokenizer whatever
     * the model); `output` (max_tokens) stays in the served model's tokens.
     */
    client_token_ratio: z.number().positive().default(1),
    /**
     * Client time between a request's turn and its sending (llmperf of 2024 builds each prompt in its
     * launch loop); a wave's requests go out one every `launch_ms`.
     */
    launch_ms: z.number().min(0).default(0),
  }),
  z.object({ kind: z.literal('step'), batch: z.number().int().positive(), context: z.number().int().positive() }),
]);

const rowSchema = z.object({
  source: z.string().min(1),
  gpu: z.string(),
  model: z.string(),
  format: z.string(),
  tp: z.number().int().positive(),
  engine: z.string(),
  workload: workloadSchema,
  metric: z.enum(['output_throughput', 'ttft_ms', 'itl_ms', 'latency_per_token_ms', 'decode_rate', 'step_ms']),
  value: z.number().positive(),
  bound: z.enum(['lower']).optional(),
  tolerance: z.number().positive().optional(),
  /** Why the simulator is known to miss this row; the test then checks that it still misses. */
  known_deviation: z.string().min(1).optional(),
});

export type CalibrationRow = z.infer<typeof rowSchema>;
export type Workload = z.infer<typeof workloadSchema>;
export type Metric = CalibrationRow['metric'];

export function loadCalibrationTable(url: URL = TABLE_URL): CalibrationRow[] {
  const doc = parseYaml(readFileSync(url, 'utf8')) as { rows?: unknown };
  const parsed = z.array(rowSchema).min(1).safeParse(doc?.rows);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SimError('bad_config', `data/calibration.yaml: rows.${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data;
}

export function rowProfileId(row: CalibrationRow): string {
  return `${row.gpu}:${row.model}:${row.format}:tp${row.tp}:${row.engine}`;
}

export function describeWorkload(w: Workload): string {
  switch (w.kind) {
    case 'offline':
      return `${w.input}/${w.output} offline x${w.requests}`;
    case 'closed':
      return `${w.input}/${w.output} concurrency ${w.concurrency}${w.waves ? ' in waves' : ''}${w.input_stddev || w.output_stddev ? ` (sd ${w.input_stddev}/${w.output_stddev})` : ''}`;
    case 'step':
      return `decode step batch ${w.batch} ctx ${w.context}`;
  }
}

/** What one simulated run measured (every metric its workload yields). */
export type RunMetrics = Partial<Record<Metric, number>>;

/** Runs a workload on a deployment in virtual time. */
export function simulateWorkload(deployment: Deployment, workload: Workload): RunMetrics {
  if (workload.kind === 'step') {
    const stepMs = createStepModel(deployment).stepMs({
      decodeSeqs: workload.batch,
      decodeContext: workload.batch * workload.context,
      prefillSeqs: 0,
      prefillTokens: 0,
      prefillAttention: 0,
      prefillContext: 0,
    });
    return { step_ms: stepMs };
  }
  const clock = new VirtualClock();
  const engine = createEngine(deployment, { clock, seed: 1 });
  const closed = workload.kind === 'closed' ? workload : undefined;
  const ratio = closed?.client_token_ratio ?? 1;
  const users = closed ? closed.concurrency : workload.requests;
  let remaining = workload.requests;
  let inFlight = 0;
  let outputTokens = 0;
  let lastFinish = 0;
  let ttftSum = 0;
  let itlSum = 0;
  let itlCount = 0;
  let perTokenSum = 0;
  let finished = 0;
  const rng = createRng(7);
  const draw = (mean: number, stddev: number): number => Math.max(1, Math.round(mean + stddev * rng.normal()));
  const send = (): void => {
    const sentAt = clock.now();
    let firstAt = -1;
    const promptTokens = closed ? Math.max(1, Math.round(draw(closed.input, closed.input_stddev) / ratio)) : workload.input;
    const maxTokens = closed ? draw(closed.output, closed.output_stddev) : workload.output;
    engine.submit(
      { promptTokens, maxTokens, ignoreEos: true },
      {
        onToken: (_count, atMs) => {
          if (firstAt < 0) firstAt = atMs;
        },
        onFinish: (info) => {
          finished++;
          inFlight--;
          outputTokens += info.outputTokens;
          lastFinish = info.atMs;
          ttftSum += firstAt - sentAt;
          perTokenSum += (info.atMs - sentAt) / (info.outputTokens * ratio);
          if (info.outputTokens > 1) {
            itlSum += (info.atMs - firstAt) / (info.outputTokens - 1);
            itlCount++;
          }
          if (!closed || remaining === 0) return;
          if (!closed.waves) launch(1);
          else if (inFlight === 0) launch(users);
        },
      },
    );
  };
  // The client sends up to `n` more requests, one every launch_ms (at once when it is 0); they count
  // as in flight from now, so a wave ends only when all of them have finished.
  const launch = (n: number): void => {
    const gap = closed?.launch_ms ?? 0;
    const k = Math.min(n, remaining);
    remaining -= k;
    inFlight += k;
    for (let u = 0; u < k; u++) {
      if (gap === 0) send();
      else clock.schedule(clock.now() + gap * (u + 1), send);
    }
  };
  launch(users);
  clock.run();
  const itl = itlCount > 0 ? itlSum / itlCount : NaN;
  return {
    output_throughput: ((outputTokens * ratio) / lastFinish) * 1e3,
    ttft_ms: ttftSum / finished,
    itl_ms: itl,
    latency_per_token_ms: perTokenSum / finished,
    decode_rate: 1e3 / itl,
  };
}

export interface CalibrationResult {
  source: string;
  gpu: string;
  model: string;
  format: string;
  tp: number;
  engine: string;
  workload: string;
  metric: Metric;
  published: number;
  simulated: number;
  /** (simulated - published) / published. */
  error: number;
  bound?: 'lower';
  tolerance: number;
  pass: boolean;
  knownDeviation?: string;
}

/** Simulates one row; `engineOverride` replaces engine coefficients (for fitting). */
export function simulateRow(row: CalibrationRow, engineOverride?: Partial<EngineProfile>): number {
  const base = resolveProfile(rowProfileId(row));
  const deployment = engineOverride ? { ...base, engine: { ...base.engine, ...engineOverride } } : base;
  const value = simulateWorkload(deployment, row.workload)[row.metric];
  if (value === undefined || !Number.isFinite(value)) throw new SimError('bad_config', `workload ${row.workload.kind} gives no ${row.metric}`);
  return value;
}

export function rowPasses(row: CalibrationRow, error: number): boolean {
  const tolerance = row.tolerance ?? DEFAULT_TOLERANCE;
  return row.bound === 'lower' ? error >= -tolerance : Math.abs(error) <= tolerance;
}

export function runCalibration(rows: CalibrationRow[] = loadCalibrationTable()): CalibrationResult[] {
  return rows.map((row) => {
    const simulated = simulateRow(row);
    const error = (simulated - row.value) / row.value;
    return {
      source: row.source,
      gpu: row.gpu,
      model: row.model,
      format: row.format,
      tp: row.tp,
      engine: row.engine,
      workload: describeWorkload(row.workload),
      metric: row.metric,
      published: row.value,
      simulated,
      error,
      ...(row.bound ? { bound: row.bound } : {}),
      tolerance: row.tolerance ?? DEFAULT_TOLERANCE,
      pass: rowPasses(row, error),
      ...(row.known_deviation ? { knownDeviation: row.known_deviation } : {}),
    };
  });
}

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
  metric: z.enum(['output_throughput', 'ttft_ms', 'itl_ms', 'decode_rate', 'step_ms']),
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
      return `${w.input}/${w.output} concurrency ${w.concurrency}${w.input_stddev || w.output_stddev ? ` (sd ${w.input_stddev}/${w.output_stddev})` : ''}`;
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
  const users = workload.kind === 'offline' ? workload.requests : workload.concurrency;
  let remaining = workload.requests;
  let outputTokens = 0;
  let lastFinish = 0;
  let ttftSum = 0;
  let itlSum = 0;
  let itlCount = 0;
  let finished = 0;
  const rng = createRng(7);
  const draw = (mean: number, stddev: number): number => Math.max(1, Math.round(mean + stddev * rng.normal()));
  const send = (): void => {
    remaining--;
    const sentAt = clock.now();
    let firstAt = -1;
    const promptTokens = workload.kind === 'closed' ? draw(workload.input, workload.input_stddev) : workload.input;
    const maxTokens = workload.kind === 'closed' ? draw(workload.output, workload.output_stddev) : workload.output;
    engine.submit(
      { promptTokens, maxTokens, ignoreEos: true },
      {
        onToken: (_count, atMs) => {
          if (firstAt < 0) firstAt = atMs;
        },
        onFinish: (info) => {
          finished++;
          outputTokens += info.outputTokens;
          lastFinish = info.atMs;
          ttftSum += firstAt - sentAt;
          if (info.outputTokens > 1) {
            itlSum += (info.atMs - firstAt) / (info.outputTokens - 1);
            itlCount++;
          }
          if (workload.kind === 'closed' && remaining > 0) send();
        },
      },
    );
  };
  for (let u = 0; u < users && remaining > 0; u++) send();
  clock.run();
  const itl = itlCount > 0 ? itlSum / itlCount : NaN;
  return {
    output_throughput: (outputTokens / lastFinish) * 1e3,
    ttft_ms: ttftSum / finished,
    itl_ms: itl,
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

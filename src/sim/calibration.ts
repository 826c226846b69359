/**
 * The calibration table (data/calibration.yaml): published measurements, each with its source, and
 * the virtual-time runs that reproduce each row's workload on the simulator.
 */
import { z } from 'zod';
import { loadYaml, type YamlErrorFactory } from '../config/load.js';
import { VirtualClock } from './clock.js';
import { createEngine, type EngineOptions } from './engine.js';
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
    /** Tokens the server's chat template adds to each prompt, in the served model's tokens. */
    chat_template_tokens: z.number().int().min(0).default(0),
    /** Client time to build each request: a wave's i-th request is ready i x launch_ms after the wave starts. */
    launch_ms: z.number().min(0).default(0),
    /** Client time from a wave's last response to the next wave's first launch, and after the last wave. */
    wave_gap_ms: z.number().min(0).default(0),
    /**
     * The client's workers, one per concurrent request (llmperf's Ray actors), are not up at the
     * start of the run: they come up `worker_group` at a time, the first group at once and each
     * next one worker_group x worker_start_ms later; a request waits for its worker.
     */
    worker_start_ms: z.number().min(0).default(0),
    worker_group: z.number().int().positive().default(1),
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
  /** false: the engine ran without chunked prefill (vLLM v0.4 by default): see EngineOptions.chunkedPrefill. */
  chunked_prefill: z.boolean().default(true),
});

export type CalibrationRow = z.infer<typeof rowSchema>;
export type Workload = z.infer<typeof workloadSchema>;
export type Metric = CalibrationRow['metric'];

/**
 * A closed workload names its client (`client: llmperf-2024`) instead of repeating its parameters:
 * they come from the table's `clients` section, and a row cannot set them itself, so every row of
 * one client shares one set.
 */
function withClients(doc: unknown, ctx: z.RefinementCtx): unknown {
  const { clients = {}, rows } = (doc ?? {}) as { clients?: Record<string, Record<string, unknown>>; rows?: unknown };
  if (!Array.isArray(rows)) return doc;
  const merged = rows.map((row: unknown, index) => {
    const workload = (row as { workload?: Record<string, unknown> } | null)?.workload;
    if (typeof workload?.client !== 'string') return row;
    const { client: name, ...own } = workload;
    const client = clients[name];
    if (!client) {
      ctx.addIssue({ code: 'custom', path: ['rows', index, 'workload', 'client'], message: `no client '${name}' in clients` });
      return row;
    }
    const repeated = Object.keys(own).find((k) => k in client);
    if (repeated) ctx.addIssue({ code: 'custom', path: ['rows', index, 'workload', repeated], message: `set by client '${name}', not per row` });
    return { ...(row as object), workload: { ...own, ...client } };
  });
  return { ...(doc as object), rows: merged };
}

const tableSchema = z.preprocess(withClients, z.object({ rows: z.array(rowSchema).min(1) }));

const tableError: YamlErrorFactory = (_code, message, cause) => new SimError('bad_config', message, { cause });

export function loadCalibrationTable(url: URL = TABLE_URL): CalibrationRow[] {
  return loadYaml(tableSchema, url, { what: 'calibration table', error: tableError }).rows;
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

/** When the client's i-th worker (1-based) can send, in ms from the start of the run. */
function workerUpAt(client: Extract<Workload, { kind: 'closed' }>, i: number): number {
  const group = Math.floor((i - 1) / client.worker_group);
  return group * client.worker_group * client.worker_start_ms;
}

/** What one simulated run measured (every metric its workload yields). */
export type RunMetrics = Partial<Record<Metric, number>>;

/** Runs a workload on a deployment in virtual time. */
export function simulateWorkload(deployment: Deployment, workload: Workload, engineOptions: Pick<EngineOptions, 'chunkedPrefill'> = {}): RunMetrics {
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
  const engine = createEngine(deployment, { clock, seed: 1, ...engineOptions });
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
    const promptTokens = closed ? Math.max(1, Math.round(draw(closed.input, closed.input_stddev) / ratio)) + closed.chat_template_tokens : workload.input;
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
          else if (inFlight === 0) clock.schedule(clock.now() + closed.wave_gap_ms, () => launch(users));
        },
      },
    );
  };
  // The client sends up to `n` more requests, the i-th once it is built and its worker is up; they
  // count as in flight from now, so a wave ends only when all of them have finished.
  const launch = (n: number): void => {
    const k = Math.min(n, remaining);
    remaining -= k;
    inFlight += k;
    const now = clock.now();
    for (let i = 1; i <= k; i++) {
      const at = closed ? Math.max(now + i * closed.launch_ms, workerUpAt(closed, i)) : now;
      if (at === now) send();
      else clock.schedule(at, send);
    }
  };
  launch(users);
  clock.run();
  const itl = itlCount > 0 ? itlSum / itlCount : NaN;
  // A wave client stops its clock after the last wave's gap too.
  const runMs = lastFinish + (closed?.waves ? closed.wave_gap_ms : 0);
  return {
    output_throughput: ((outputTokens * ratio) / runMs) * 1e3,
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
}

/** Simulates one row; `engineOverride` replaces engine coefficients (for fitting). */
export function simulateRow(row: CalibrationRow, engineOverride?: Partial<EngineProfile>): number {
  const base = resolveProfile(rowProfileId(row));
  const deployment = engineOverride ? { ...base, engine: { ...base.engine, ...engineOverride } } : base;
  const value = simulateWorkload(deployment, row.workload, { chunkedPrefill: row.chunked_prefill })[row.metric];
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
    };
  });
}

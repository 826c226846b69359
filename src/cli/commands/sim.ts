/** `expert-router sim`: serve simulated GPU inference servers, list profiles, run the calibration. */
import type { Command } from 'commander';
import { CliError, parsePositiveInt } from '../run.js';
import { alignColumns } from '../../common/text-table.js';
import {
  SimError,
  fitEngine,
  listProfiles,
  loadCalibrationTable,
  loadSimConfig,
  profileCatalog,
  runCalibration,
  startSimServers,
  type FaultSettings,
  type SimServerOptions,
} from '../../sim/index.js';

interface SimOptions {
  profile?: string;
  config?: string;
  list?: boolean;
  json?: boolean;
  host: string;
  port?: number;
  seed?: number;
  modelName?: string;
  maxNumSeqs?: number;
  errorRate?: number;
  stallMs?: number;
  stallRate?: number;
  disconnectRate?: number;
  slowStartMs?: number;
  refuseConnectionsMs?: number;
}

function parseFraction(name: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0 || n > 1) throw new CliError(`${name} must be a number from 0 to 1, got '${v}'`, 2);
    return n;
  };
}

function parseNonNegative(name: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new CliError(`${name} must be a non-negative number, got '${v}'`, 2);
    return n;
  };
}

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CliError(`--port must be an integer from 0 to 65535, got '${v}'`, 2);
  return n;
}

function parseSeed(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new CliError(`--seed must be an integer, got '${v}'`, 2);
  return n;
}

/** Runs the library call, turning configuration errors into CLI errors (no stack trace). */
async function guarded<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof SimError) throw new CliError(err.message);
    throw err;
  }
}

function faultFlags(o: SimOptions): Partial<FaultSettings> {
  const f: Partial<FaultSettings> = {};
  if (o.errorRate !== undefined) f.errorRate = o.errorRate;
  if (o.stallMs !== undefined) f.stallMs = o.stallMs;
  if (o.stallRate !== undefined) f.stallRate = o.stallRate;
  if (o.disconnectRate !== undefined) f.disconnectRate = o.disconnectRate;
  if (o.slowStartMs !== undefined) f.slowStartMs = o.slowStartMs;
  if (o.refuseConnectionsMs !== undefined) f.refuseConnectionsMs = o.refuseConnectionsMs;
  return f;
}

function printList(json: boolean): void {
  const rows = listProfiles();
  if (json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  const lines = rows.map((r) =>
    [
      r.id.padEnd(44),
      `weights ${r.weightGibPerGpu.toFixed(1).padStart(6)} GiB/GPU`,
      `usable ${r.usableGibPerGpu.toFixed(1).padStart(6)} GiB/GPU`,
      r.fits ? `fits   KV ${r.kvCapacityTokens.toLocaleString('en-US').padStart(11)} tokens` : `NO FIT short by ${r.shortGib.toFixed(1)} GiB/GPU`,
    ].join('  '),
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function serve(o: SimOptions): Promise<void> {
  let servers: SimServerOptions[];
  if (o.config) {
    if (o.profile) throw new CliError('give either --profile or --config, not both', 2);
    servers = await guarded(() => loadSimConfig(o.config as string));
  } else if (o.profile) {
    servers = [{ profile: o.profile, host: o.host, port: o.port ?? 8000, seed: o.seed, modelName: o.modelName, maxNumSeqs: o.maxNumSeqs }];
  } else {
    throw new CliError('sim needs --profile GPU:MODEL:FORMAT:tpN[:ENGINE], --config FILE, or --list (see sim --help)', 2);
  }
  const flags = faultFlags(o);
  servers = servers.map((s) => ({ ...s, faults: { ...s.faults, ...flags } }));
  const started = await guarded(() => startSimServers(servers));
  for (const s of started) {
    const d = s.deployment;
    process.stdout.write(`${s.url}  ${d.id}  model '${s.modelName}'  gpus ${d.gpus}  KV ${d.kvCapacityTokens} tokens  context ${d.contextLength}\n`);
  }
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await Promise.all(started.map((s) => s.close()));
}

function calibrate(o: { json?: boolean; fit?: boolean; maxEvaluations?: number }): void {
  const table = loadCalibrationTable();
  if (o.fit) {
    for (const engine of Object.keys(profileCatalog().engines)) {
      if (!table.some((r) => r.engine === engine)) continue;
      const fit = fitEngine(engine, table, { maxEvaluations: o.maxEvaluations });
      const coefficients = Object.fromEntries(Object.entries(fit.coefficients).map(([k, v]) => [k, Number(v.toPrecision(4))]));
      process.stdout.write(`${engine}: ${JSON.stringify(coefficients)}  (loss ${fit.loss.toFixed(3)}, ${fit.evaluations} runs; ${fit.rows.filter((r) => r.pass).length}/${fit.rows.length} rows within tolerance)\n`);
    }
    process.stdout.write('paste these into data/profiles/engines.yaml, then run `sim calibrate` to check\n');
    return;
  }
  const results = runCalibration(table);
  if (o.json) {
    const rows = results.map(({ source, gpu, model, format, tp, engine, workload, metric, published, simulated, error }) => ({ source, gpu, model, format, tp, engine, workload, metric, published, simulated, error }));
    process.stdout.write(`${JSON.stringify({ rows })}\n`);
    return;
  }
  const lines = alignColumns(results.map((r) => [
    r.pass ? 'ok' : 'MISS',
    `${r.gpu}:${r.model}:${r.format}:tp${r.tp}:${r.engine}`,
    r.workload,
    r.metric,
    `published ${String(r.published).padStart(7)}  simulated ${r.simulated.toFixed(1).padStart(8)}  error ${(r.error >= 0 ? '+' : '') + (r.error * 100).toFixed(1)}%${r.bound ? ' (floor)' : ''}`,
  ]));
  for (const line of lines) process.stdout.write(`${line}\n`);
  const misses = results.filter((r) => !r.pass);
  process.stdout.write(`${results.length - misses.length}/${results.length} rows within tolerance\n`);
}

export function registerSim(program: Command): void {
  const sim = program
    .command('sim')
    .description('Serve simulated GPU inference servers (OpenAI and Triton protocols, vLLM metrics, fault injection)')
    .option('--profile <id>', 'GPU:MODEL:FORMAT:tpN[:ENGINE], e.g. h100-80gb:llama-3-70b:fp8:tp2')
    .option('--config <file>', 'YAML file with several servers (servers: [{profile, port, model_name, faults}])')
    .option('--list', 'print every profile with memory fit and KV-cache capacity')
    .option('--json', 'with --list: JSON output')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port (default 8000; 0 picks a free one)', parsePort)
    .option('--seed <n>', 'seed of the output lengths, text and faults', parseSeed)
    .option('--model-name <name>', 'model name to serve (default: the profile model id on Hugging Face)')
    .option('--max-num-seqs <n>', 'override the engine max_num_seqs', parsePositiveInt('--max-num-seqs'))
    .option('--error-rate <p>', 'fault: fraction of requests answered 500 before any token', parseFraction('--error-rate'))
    .option('--stall-ms <ms>', 'fault: after the first token, no token for this long', parseNonNegative('--stall-ms'))
    .option('--stall-rate <p>', 'fault: fraction of requests that stall (default 1)', parseFraction('--stall-rate'))
    .option('--disconnect-rate <p>', 'fault: fraction of streams cut mid-stream', parseFraction('--disconnect-rate'))
    .option('--slow-start-ms <ms>', 'fault: delay before answering', parseNonNegative('--slow-start-ms'))
    .option('--refuse-connections-ms <ms>', 'fault: refuse new connections for this long after start', parseNonNegative('--refuse-connections-ms'))
    .action(async (o: SimOptions) => {
      if (o.list) return printList(o.json === true);
      await serve(o);
    });
  sim
    .command('calibrate')
    .description('Run every row of data/calibration.yaml in virtual time: published vs simulated and the signed error')
    .option('--json', 'one JSON object {"rows": [...]}, error as a fraction')
    .option('--fit', 'fit the engine coefficients to the table and print them (does not edit files)')
    .option('--max-evaluations <n>', 'with --fit: simulation budget per engine', parsePositiveInt('--max-evaluations'))
    .action((_o: unknown, cmd: Command) => {
      // `--json` is also an option of `sim` itself (for --list), so read it with the parent's options.
      const o = cmd.optsWithGlobals<{ json?: boolean; fit?: boolean; maxEvaluations?: number }>();
      return guarded(() => calibrate(o));
    });
}

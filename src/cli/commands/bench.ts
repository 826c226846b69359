/** `expert-router bench`: load a target with simulated users and write records, summary and report. */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { join } from 'node:path';
import {
  createProgressReporter,
  loadPrompts,
  parseDuration,
  parseLength,
  parseNumberList,
  parseSlo,
  parseThinkTime,
  runBench,
  splitTarget,
  writeBenchOutputs,
  type LengthSpec,
  type LoadSpec,
  type PromptSpec,
  type Slo,
  type ThinkTime,
} from '../../harness/index.js';
import { CliError, parsePositiveInt } from '../run.js';

interface BenchFlags {
  target: string;
  protocol: 'openai' | 'triton';
  model?: string;
  users?: number[];
  rate?: number[];
  arrival: 'constant' | 'poisson';
  thinkTime?: ThinkTime;
  rampUp?: number;
  duration: number;
  warmup: number;
  requests?: number;
  dataset?: string;
  promptField?: string;
  inputTokens?: LengthSpec;
  outputTokens?: LengthSpec;
  maxTokens?: number;
  ignoreEos?: boolean;
  slo?: Slo;
  scrape?: string[];
  out?: string;
  seed: number;
  stallTimeout: number;
  name?: string;
  progress: boolean;
}

/** Wraps a library parser so commander names the flag in its error message. */
function flag<T>(parse: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return parse(value);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  };
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('Drive simulated users against an OpenAI-compatible or Triton endpoint; write records.jsonl, summary.json, summary.csv and report.html')
    .requiredOption('--target <url>', 'base URL of the endpoint (gateway, simulator, vLLM, Triton)')
    .addOption(new Option('--protocol <name>', 'wire protocol').choices(['openai', 'triton']).default('openai'))
    .option('--model <name>', "model to request (default: first of /v1/models; 'ensemble' for triton)")
    .option('--users <list>', 'closed loop: concurrent users per level, e.g. 1,10,100,500,1000 (default 1)', flag((v) => parseNumberList(v, '--users', true)))
    .option('--rate <list>', 'open loop: arrival rates (req/s) per level, e.g. 5,10,20', flag((v) => parseNumberList(v, '--rate', false)))
    .addOption(new Option('--arrival <kind>', 'open-loop arrival process').choices(['constant', 'poisson']).default('poisson'))
    .option('--think-time <spec>', "closed loop: pause between a user's requests: 500ms (fixed) or exp:2s (exponential mean)", flag(parseThinkTime))
    .option('--ramp-up <duration>', 'closed loop: spread the users\u2019 starts over this time', flag((v) => parseDuration(v)))
    .addOption(new Option('--duration <duration>', 'measured time per level (500ms, 30s, 2m)').argParser(flag((v) => parseDuration(v))).default(30_000, '30s'))
    .addOption(new Option('--warmup <duration>', 'warm-up per level, excluded from the figures').argParser(flag((v) => parseDuration(v))).default(0, 'none'))
    .option('--requests <n>', 'measured requests per level instead of a duration', flag(parsePositiveInt('--requests')))
    .option('--dataset <file>', 'JSONL prompts (field prompt, text, question or messages); default: the project corpus')
    .option('--prompt-field <name>', 'the JSONL field holding the prompt')
    .option('--input-tokens <len>', 'synthetic prompts of this many tokens: MEAN or MEAN:SPREAD', flag((v) => parseLength(v, '--input-tokens')))
    .option('--output-tokens <len>', 'output tokens per request (sent as max_tokens): MEAN or MEAN:SPREAD', flag((v) => parseLength(v, '--output-tokens')))
    .option('--max-tokens <n>', 'max_tokens for every request', flag(parsePositiveInt('--max-tokens')))
    .option('--ignore-eos', 'ask the server to ignore end-of-sequence (vLLM, TensorRT-LLM, the simulator)')
    .option('--slo <spec>', 'objectives for goodput, e.g. ttft=500ms,tpot=50ms[,e2e=10s]', flag(parseSlo))
    .option('--scrape <url...>', 'Prometheus endpoints sampled every second during the run')
    .option('--out <dir>', 'output directory (default runs/bench-<timestamp>)')
    .option('--seed <n>', 'seed for prompt order, think times and arrivals', flag(parsePositiveInt('--seed')), 1)
    .addOption(
      new Option('--stall-timeout <duration>', 'a request receiving nothing for this long fails as stall_timeout (checked about once a second)')
        .argParser(flag((v) => parseDuration(v)))
        .default(120_000, '2m'),
    )
    .option('--name <name>', 'run name shown in reports')
    .option('--no-progress', 'no progress display')
    .action(async (flags: BenchFlags) => {
      await runBenchCommand(flags);
    });
}

function promptSpec(flags: BenchFlags): PromptSpec {
  if (flags.dataset && flags.inputTokens) throw new CliError('--dataset and --input-tokens exclude each other', 2);
  if (flags.inputTokens) return { kind: 'synthetic', inputTokens: flags.inputTokens };
  if (flags.dataset) return { kind: 'dataset', file: flags.dataset, field: flags.promptField };
  return { kind: 'corpus' };
}

function loadSpec(flags: BenchFlags): LoadSpec {
  if (flags.users && flags.rate) throw new CliError('--users (closed loop) and --rate (open loop) exclude each other', 2);
  if (flags.rate) {
    if (flags.thinkTime || flags.rampUp !== undefined) throw new CliError('--think-time and --ramp-up apply to --users (closed loop) only', 2);
    return { mode: 'open', rates: flags.rate, arrival: flags.arrival };
  }
  return { mode: 'closed', users: flags.users ?? [1], thinkTime: flags.thinkTime, rampUpMs: flags.rampUp };
}

async function runBenchCommand(flags: BenchFlags): Promise<void> {
  try {
    splitTarget(flags.target);
  } catch (err) {
    throw new CliError((err as Error).message, 2);
  }
  const load = loadSpec(flags);
  let prompts;
  try {
    prompts = await loadPrompts(promptSpec(flags), { outputTokens: flags.outputTokens, seed: flags.seed });
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError((err as Error).message);
  }
  const out = flags.out ?? join('runs', `bench-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const reporter = flags.progress ? createProgressReporter(process.stderr) : undefined;
  const interrupt = new AbortController();
  const onSignal = (): void => interrupt.abort();
  process.once('SIGINT', onSignal);
  try {
    const result = await runBench(
      {
        target: flags.target,
        protocol: flags.protocol,
        model: flags.model,
        load,
        durationMs: flags.duration,
        warmupMs: flags.warmup,
        requests: flags.requests,
        prompts,
        maxTokens: flags.maxTokens,
        ignoreEos: flags.ignoreEos,
        slo: flags.slo,
        scrape: flags.scrape,
        seed: flags.seed,
        stallTimeoutMs: flags.stallTimeout,
        name: flags.name,
      },
      { onProgress: reporter?.update, onLevelDone: reporter ? reporter.levelDone : undefined, signal: interrupt.signal },
    );
    reporter?.stop();
    await writeBenchOutputs(out, result);
    const errors = result.levels.reduce((n, l) => n + l.errors, 0);
    const requests = result.levels.reduce((n, l) => n + l.requests, 0);
    for (const w of result.warnings) process.stderr.write(`warning: ${w}\n`);
    process.stdout.write(`${requests} measured requests, ${errors} failed; wrote ${join(out, 'summary.json')}, summary.csv, records.jsonl and report.html\n`);
  } finally {
    reporter?.stop();
    process.removeListener('SIGINT', onSignal);
  }
}

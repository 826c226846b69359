/**
 * `expert-router train`: reads prompts (a JSONL/CSV file, or a corpus folder with train/<label>/*.jsonl),
 * trains the classifier, writes the model and prints its summary. `--data data/corpus --out
 * data/models/default.json` rebuilds the shipped default model.
 */
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import {
  ClassifierError,
  corpusDigest,
  corpusSource,
  formatModelSummary,
  readDefaultCorpus,
  readExamples,
  saveModel,
  trainClassifier,
  type LabelledText,
  type ModelKind,
  type TrainProgress,
} from '../../classifier/index.js';
import { CliError, parsePositiveInt } from '../run.js';

/** Inputs at least this large show a progress bar on stderr. */
const PROGRESS_MIN_EXAMPLES = 2000;

interface TrainCliOptions {
  data: string;
  textField: string;
  labelField?: string;
  k?: number;
  model: ModelKind;
  l2?: number;
  centroidsPerLabel: number;
  restarts: number;
  seed: number;
  out: string;
}

function parseModelKind(value: string): ModelKind {
  if (value !== 'linear' && value !== 'centroid') throw new CliError(`--model must be 'linear' or 'centroid', got '${value}'`, 2);
  return value;
}

function parsePositiveNumber(name: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (value.trim() === '' || !(n > 0 && n < Infinity)) throw new CliError(`${name} must be a positive number, got '${value}'`, 2);
    return n;
  };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function parseSeed(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n > 0xffffffff) throw new CliError(`--seed must be an integer from 0 to 4294967295, got '${value}'`, 2);
  return n;
}

/** One bar per phase (featurize, cluster), on stderr; plain periodic lines when stderr is not a terminal. */
function progressReporter(): { update: (p: TrainProgress) => void; stop: (done: boolean) => void } {
  let bar: cliProgress.SingleBar | undefined;
  let phase: string | undefined;
  // k-means usually converges before its iteration budget: a finished phase shows as full.
  const stop = (done: boolean) => {
    if (bar && done) bar.update(bar.getTotal());
    bar?.stop();
  };
  return {
    update(p) {
      if (p.phase !== phase) {
        stop(true);
        phase = p.phase;
        bar = new cliProgress.SingleBar(
          { format: `${p.phase.padEnd(9)} [{bar}] {value}/{total}`, stream: process.stderr, noTTYOutput: true, notTTYSchedule: 1000, hideCursor: false },
          cliProgress.Presets.legacy,
        );
        bar.start(p.total, 0);
      }
      bar!.update(p.done);
    },
    stop,
  };
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train the prompt classifier (supervised: logistic regression or centroids per label; or k-means clusters with --k) and write the model')
    .requiredOption('--data <file|dir>', 'training prompts: JSONL (one object per line), CSV with a header row, or a corpus folder (train/**/*.jsonl)')
    .option('--text-field <name>', 'field holding the prompt', 'prompt')
    .option('--label-field <name>', "field holding the label (default 'label'); without --k every example needs one")
    .option('--k <n>', 'cluster into N groups with spherical k-means (the paper\'s method); labels, when present, name the clusters', parsePositiveInt('--k'))
    .option('--model <kind>', "supervised learner: 'linear' (multinomial logistic regression, calibrated) or 'centroid'", parseModelKind, 'linear')
    .option('--l2 <x>', 'linear: L2 penalty on the weights (default 5e-6)', parsePositiveNumber('--l2'))
    .option('--centroids-per-label <n>', 'supervised centroids: k-means centroids within each label', parsePositiveInt('--centroids-per-label'), 1)
    .option('--restarts <n>', 'k-means restarts; the best objective is kept', parsePositiveInt('--restarts'), 3)
    .option('--seed <s>', 'random seed: the same seed and data give a byte-identical model', parseSeed, 42)
    .requiredOption('--out <model>', 'where to write the model (JSON)')
    .action((opts: TrainCliOptions) => {
      const supervised = opts.k === undefined;
      const labelField = opts.labelField ?? 'label';
      let reporter: ReturnType<typeof progressReporter> | undefined;
      try {
        const folder = isDirectory(opts.data);
        const examples: LabelledText[] = folder ? readDefaultCorpus(opts.data) : readExamples(opts.data, { textField: opts.textField, labelField, requireLabel: supervised });
        if (opts.k !== undefined && opts.k > examples.length) {
          throw new CliError(`--k ${opts.k} is larger than the corpus (${examples.length} examples in ${opts.data})`, 2);
        }
        if (examples.length >= PROGRESS_MIN_EXAMPLES) reporter = progressReporter();
        const started = performance.now();
        const model = trainClassifier(examples, {
          k: opts.k,
          supervised,
          model: supervised ? opts.model : undefined,
          l2: opts.l2,
          seed: opts.seed,
          restarts: opts.restarts,
          centroidsPerLabel: opts.centroidsPerLabel,
          source: folder ? corpusSource(opts.data) : basename(opts.data),
          corpusDigest: folder ? corpusDigest(opts.data) : undefined,
          onProgress: reporter?.update,
        });
        const seconds = (performance.now() - started) / 1000;
        reporter?.stop(true);
        saveModel(model, opts.out);
        process.stdout.write(`${formatModelSummary(model.metadata)}\n\ntrained in ${seconds.toFixed(1)} s; model written to ${opts.out}\n`);
      } catch (err) {
        reporter?.stop(false);
        if (!(err instanceof ClassifierError)) throw err;
        const hint = supervised && err.code === 'data_missing_field' && err.message.includes('label') ? ' (pass --k N to cluster without labels)' : '';
        throw new CliError(err.message + hint);
      }
    });
}

/** `expert-router train`: reads prompts, trains the classifier, writes the model and prints its summary. */
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { basename } from 'node:path';
import { ClassifierError, formatModelSummary, readExamples, saveModel, trainClassifier, type TrainProgress } from '../../classifier/index.js';
import { CliError, parsePositiveInt } from '../run.js';

/** Inputs at least this large show a progress bar on stderr. */
const PROGRESS_MIN_EXAMPLES = 2000;

interface TrainCliOptions {
  data: string;
  textField: string;
  labelField?: string;
  k?: number;
  centroidsPerLabel: number;
  restarts: number;
  seed: number;
  out: string;
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
    .description('train the prompt classifier (supervised per label, or k-means clusters with --k) and write the model')
    .requiredOption('--data <file>', 'training prompts: JSONL (one object per line) or CSV with a header row')
    .option('--text-field <name>', 'field holding the prompt', 'prompt')
    .option('--label-field <name>', "field holding the label (default 'label'); without --k every example needs one")
    .option('--k <n>', 'cluster into N groups with spherical k-means (the paper\'s method); labels, when present, name the clusters', parsePositiveInt('--k'))
    .option('--centroids-per-label <n>', 'supervised: k-means centroids within each label', parsePositiveInt('--centroids-per-label'), 1)
    .option('--restarts <n>', 'k-means restarts; the best objective is kept', parsePositiveInt('--restarts'), 3)
    .option('--seed <s>', 'random seed: the same seed and data give a byte-identical model', parseSeed, 42)
    .requiredOption('--out <model>', 'where to write the model (JSON)')
    .action((opts: TrainCliOptions) => {
      const supervised = opts.k === undefined;
      const labelField = opts.labelField ?? 'label';
      let reporter: ReturnType<typeof progressReporter> | undefined;
      try {
        const examples = readExamples(opts.data, { textField: opts.textField, labelField, requireLabel: supervised });
        if (opts.k !== undefined && opts.k > examples.length) {
          throw new CliError(`--k ${opts.k} is larger than the corpus (${examples.length} examples in ${opts.data})`, 2);
        }
        if (examples.length >= PROGRESS_MIN_EXAMPLES) reporter = progressReporter();
        const model = trainClassifier(examples, {
          k: opts.k,
          supervised,
          seed: opts.seed,
          restarts: opts.restarts,
          centroidsPerLabel: opts.centroidsPerLabel,
          source: basename(opts.data),
          onProgress: reporter?.update,
        });
        reporter?.stop(true);
        saveModel(model, opts.out);
        process.stdout.write(`${formatModelSummary(model.metadata)}\n\nmodel written to ${opts.out}\n`);
      } catch (err) {
        reporter?.stop(false);
        if (!(err instanceof ClassifierError)) throw err;
        const hint = supervised && err.code === 'data_missing_field' && err.message.includes('label') ? ' (pass --k N to cluster without labels)' : '';
        throw new CliError(err.message + hint);
      }
    });
}

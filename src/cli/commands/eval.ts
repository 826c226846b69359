/**
 * `expert-router eval`: accuracy, macro-F1, per-label precision/recall, the confusion matrix, accuracy by
 * language and by prompt length, and the calibration of the confidence (ECE, reliability table) of a model on
 * labelled prompts: a file, or a corpus folder's development set (dev/*.jsonl; by default the project's).
 */
import type { Command } from 'commander';
import { statSync } from 'node:fs';
import { ClassifierError, DEFAULT_CORPUS_DIR, defaultModel, evaluate, formatEvalReport, loadModel, readDevSet, readExamples } from '../../classifier/index.js';
import { CliError } from '../run.js';

interface EvalCliOptions {
  model?: string;
  data?: string;
  textField: string;
  labelField: string;
  json?: boolean;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('evaluate a model on labelled prompts: accuracy (by label, language and length), confusion matrix, calibration')
    .option('--model <file>', 'model file written by train (default: the built-in model)')
    .option('--data <file|dir>', 'labelled prompts: JSONL, CSV with a header row, or a corpus folder (its dev/*.jsonl); default: the project development set')
    .option('--text-field <name>', 'field holding the prompt', 'prompt')
    .option('--label-field <name>', 'field holding the true label', 'label')
    .option('--json', 'print exactly one JSON object {"accuracy","macro_f1","per_label","confusion","n","by_lang","non_english","by_length","calibration"}')
    .action((opts: EvalCliOptions) => {
      try {
        const data = opts.data ?? DEFAULT_CORPUS_DIR;
        const examples = isDirectory(data) ? readDevSet(data) : readExamples(data, { textField: opts.textField, labelField: opts.labelField, requireLabel: true });
        const model = opts.model === undefined ? defaultModel() : loadModel(opts.model);
        const report = evaluate(model, examples);
        process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : `${formatEvalReport(report)}\n`);
      } catch (err) {
        throw err instanceof ClassifierError ? new CliError(err.message) : err;
      }
    });
}

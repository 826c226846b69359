/** `expert-router eval`: accuracy, macro-F1, per-label precision/recall and confusion of a model on labelled prompts. */
import type { Command } from 'commander';
import { ClassifierError, defaultModel, evaluate, formatEvalReport, loadModel, readExamples } from '../../classifier/index.js';
import { CliError } from '../run.js';

interface EvalCliOptions {
  model?: string;
  data: string;
  textField: string;
  labelField: string;
  json?: boolean;
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('evaluate a model on labelled prompts: accuracy, macro-F1, per-label precision/recall, confusion matrix')
    .option('--model <file>', 'model file written by train (default: the built-in model)')
    .requiredOption('--data <file>', 'labelled prompts: JSONL or CSV with a header row')
    .option('--text-field <name>', 'field holding the prompt', 'prompt')
    .option('--label-field <name>', 'field holding the true label', 'label')
    .option('--json', 'print exactly one JSON object {"accuracy","macro_f1","per_label","confusion","n"}')
    .action((opts: EvalCliOptions) => {
      try {
        const examples = readExamples(opts.data, { textField: opts.textField, labelField: opts.labelField, requireLabel: true });
        const model = opts.model === undefined ? defaultModel() : loadModel(opts.model);
        const report = evaluate(model, examples);
        process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : `${formatEvalReport(report)}\n`);
      } catch (err) {
        throw err instanceof ClassifierError ? new CliError(err.message) : err;
      }
    });
}

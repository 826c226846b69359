/**
 * `expert-router route`: classifies one prompt (argument or standard input) and prints the decision as JSON;
 * with --explain, the features that drove it (per label, the n-grams of the prompt that favour it most) and
 * the tier that decided.
 */
import type { Command } from 'commander';
import { ClassifierError, defaultModel, explainPrediction, formatExplanation, loadModel } from '../../classifier/index.js';
import { CliError, parsePositiveInt } from '../run.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

interface RouteCliOptions {
  model?: string;
  explain?: boolean;
  top: number;
  json?: boolean;
}

export function registerRoute(program: Command): void {
  program
    .command('route')
    .description('classify a prompt and print {"cluster","label","score","margin","confidence","scores"} as JSON (--explain: why)')
    .argument('[text...]', 'the prompt (default: read from standard input)')
    .option('--model <file>', 'model file written by train (default: the built-in model)')
    .option('--explain', 'list the features that drove the decision, per label, and the tier that decided')
    .option('--top <n>', 'with --explain: features shown per label', parsePositiveInt('--top'), 6)
    .option('--json', 'with --explain: print the explanation as one JSON object')
    .action(async (words: string[], opts: RouteCliOptions) => {
      let text: string;
      if (words.length > 0) {
        text = words.join(' ');
      } else if (process.stdin.isTTY) {
        throw new CliError('no prompt: give TEXT or pipe it on standard input', 2);
      } else {
        text = await readStdin();
      }
      if (text.trim() === '') throw new CliError('empty prompt: nothing to classify');
      try {
        const model = opts.model === undefined ? defaultModel() : loadModel(opts.model);
        if (opts.explain) {
          const explanation = explainPrediction(model, text, opts.top);
          process.stdout.write(`${opts.json ? JSON.stringify(explanation) : formatExplanation(explanation)}\n`);
          return;
        }
        const { cluster, label, score, margin, confidence, scores } = model.predict(text);
        process.stdout.write(`${JSON.stringify({ cluster, label, score, margin, confidence, scores })}\n`);
      } catch (err) {
        throw err instanceof ClassifierError ? new CliError(err.message) : err;
      }
    });
}

/** `expert-router route`: classifies one prompt (argument or standard input) and prints the decision as JSON. */
import type { Command } from 'commander';
import { ClassifierError, defaultModel, loadModel } from '../../classifier/index.js';
import { CliError } from '../run.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function registerRoute(program: Command): void {
  program
    .command('route')
    .description('classify a prompt and print {"cluster","label","score","margin","scores"} as JSON')
    .argument('[text...]', 'the prompt (default: read from standard input)')
    .option('--model <file>', 'model file written by train (default: the built-in model)')
    .action(async (words: string[], opts: { model?: string }) => {
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
        const { cluster, label, score, margin, scores } = model.predict(text);
        process.stdout.write(`${JSON.stringify({ cluster, label, score, margin, scores })}\n`);
      } catch (err) {
        throw err instanceof ClassifierError ? new CliError(err.message) : err;
      }
    });
}

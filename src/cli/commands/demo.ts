/** `expert-router demo` (npm start): the whole system on loopback, with simulated experts, in under two minutes. */
import type { Command } from 'commander';
import { join } from 'node:path';
import { runDemo } from '../../experiment/demo.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('Start simulated experts and the gateway on free local ports, route sample prompts, run a short live sweep and write an HTML report')
    .option('--short', 'a few seconds per level instead of ten (for CI)', false)
    .option('--out <dir>', 'output directory', join('runs', 'demo'))
    .action(async (flags: { short: boolean; out: string }) => {
      const abort = new AbortController();
      const onSigint = (): void => {
        process.stderr.write('\ninterrupted: stopping the simulated experts and the gateway\n');
        abort.abort();
      };
      process.once('SIGINT', onSigint);
      try {
        await runDemo({ short: flags.short, out: flags.out, signal: abort.signal });
      } finally {
        process.removeListener('SIGINT', onSigint);
      }
      // Everything started has been stopped; exit as an interrupted command does.
      if (abort.signal.aborted) process.exitCode = 130;
    });
}

// TRANSIENT: replaced by the owner of this command before the first landing.
import type { Command } from 'commander';
import { CliError } from '../run.js';

export function registerBench(program: Command): void {
  program.command('bench').description('(under construction)').action(() => {
    throw new CliError('bench: not built yet');
  });
}

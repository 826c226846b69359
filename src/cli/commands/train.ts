// TRANSIENT: replaced by the owner of this command before the first landing.
import type { Command } from 'commander';
import { CliError } from '../run.js';

export function registerTrain(program: Command): void {
  program.command('train').description('(under construction)').action(() => {
    throw new CliError('train: not built yet');
  });
}

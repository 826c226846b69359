// TRANSIENT: replaced by the owner of this command before the first landing.
import type { Command } from 'commander';
import { CliError } from '../run.js';

export function registerExperiment(program: Command): void {
  program.command('experiment').description('(under construction)').action(() => {
    throw new CliError('experiment: not built yet');
  });
}

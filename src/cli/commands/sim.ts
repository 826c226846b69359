// TRANSIENT: replaced by the owner of this command before the first landing.
import type { Command } from 'commander';
import { CliError } from '../run.js';

export function registerSim(program: Command): void {
  program.command('sim').description('(under construction)').action(() => {
    throw new CliError('sim: not built yet');
  });
}

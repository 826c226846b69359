// TRANSIENT: replaced by the owner of this command before the first landing.
import type { Command } from 'commander';
import { CliError } from '../run.js';

export function registerRoute(program: Command): void {
  program.command('route').description('(under construction)').action(() => {
    throw new CliError('route: not built yet');
  });
}

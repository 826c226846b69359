// TRANSIENT: replaced by the owner of this command before the first landing.
import type { Command } from 'commander';
import { CliError } from '../run.js';

export function registerServe(program: Command): void {
  program.command('serve').description('(under construction)').action(() => {
    throw new CliError('serve: not built yet');
  });
}

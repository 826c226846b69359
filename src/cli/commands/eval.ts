// TRANSIENT: replaced by the owner of this command before the first landing.
import type { Command } from 'commander';
import { CliError } from '../run.js';

export function registerEval(program: Command): void {
  program.command('eval').description('(under construction)').action(() => {
    throw new CliError('eval: not built yet');
  });
}

// TRANSIENT: replaced by the owner of this command before the first landing.
import type { Command } from 'commander';
import { CliError } from '../run.js';

export function registerReport(program: Command): void {
  program.command('report').description('(under construction)').action(() => {
    throw new CliError('report: not built yet');
  });
}

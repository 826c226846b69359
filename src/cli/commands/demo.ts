// TRANSIENT: replaced by the owner of this command before the first landing.
import type { Command } from 'commander';
import { CliError } from '../run.js';

export function registerDemo(program: Command): void {
  program.command('demo').description('(under construction)').action(() => {
    throw new CliError('demo: not built yet');
  });
}

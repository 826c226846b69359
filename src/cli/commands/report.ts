/** `expert-router report DIR... --out FILE.html`: several bench runs compared on the same charts. */
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { renderRunsComparison } from '../../harness/index.js';
import { CliError } from '../run.js';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('Compare bench runs (directories holding summary.json) in one self-contained HTML report')
    .argument('<dirs...>', 'bench output directories')
    .requiredOption('--out <file>', 'the HTML file to write')
    .option('--title <title>', 'report title')
    .action(async (dirs: string[], flags: { out: string; title?: string }) => {
      let html: string;
      try {
        html = await renderRunsComparison(dirs, flags.title);
      } catch (err) {
        throw new CliError((err as Error).message);
      }
      try {
        await writeFile(flags.out, html);
      } catch (err) {
        throw new CliError(`cannot write ${flags.out}: ${(err as Error).message}`);
      }
      process.stdout.write(`wrote ${flags.out} comparing ${dirs.length} run(s)\n`);
    });
}

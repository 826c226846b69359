/** `expert-router experiment`: run a spec (or a preset) in virtual time or live and write one comparison report. */
import { Option, type Command } from 'commander';
import { join } from 'node:path';
import { createProgressReporter, type ProgressSnapshot } from '../../harness/index.js';
import { loadExperimentSpec, loadPreset, presetNames, runExperiment, writeExperimentOutputs, type ExperimentClock } from '../../experiment/index.js';
import { CliError, parsePositiveInt } from '../run.js';

interface ExperimentFlags {
  preset?: string;
  clock: ExperimentClock;
  out?: string;
  seed?: number;
  users?: string;
  duration?: number;
}

function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
}

export function registerExperiment(program: Command): void {
  program
    .command('experiment')
    .description('Run an experiment spec (configurations x load levels) and write summary.json, summary.csv and report.html')
    .argument('[spec]', 'experiment spec (YAML); or use --preset')
    .option('--preset <name>', `a shipped spec: ${presetNames().join(', ')} (paper: the study of arXiv 2404.15153)`)
    .addOption(new Option('--clock <clock>', 'virtual: simulated in-process, fast; live: real HTTP servers, gateway and harness').choices(['virtual', 'live']).default('virtual'))
    .option('--out <dir>', 'output directory (default: runs/<name>-<time>)')
    .option('--seed <n>', "override the spec's seed", parsePositiveInt('--seed'))
    .option('--users <list>', "override the spec's user levels, e.g. 1,10,100")
    .option('--duration <seconds>', "override the spec's measured seconds per level", parsePositiveInt('--duration'))
    .addHelpText('after', '\nExamples:\n  expert-router experiment --preset paper\n  expert-router experiment my-spec.yaml --clock live --out runs/mine')
    .action(async (specPath: string | undefined, flags: ExperimentFlags) => {
      if ((specPath === undefined) === (flags.preset === undefined)) throw new CliError('give a spec file or --preset NAME (not both)', 2);
      const spec = flags.preset ? loadPreset(flags.preset) : loadExperimentSpec(specPath as string);
      if (flags.seed !== undefined) spec.seed = flags.seed;
      if (flags.duration !== undefined) spec.load.duration_s = flags.duration;
      if (flags.users !== undefined) {
        const users = flags.users.split(',').map((v) => Number(v.trim()));
        if (users.some((u) => !Number.isInteger(u) || u < 1)) throw new CliError(`--users must be a comma-separated list of positive integers, got '${flags.users}'`, 2);
        spec.load.users = users;
      }
      const out = flags.out ?? join('runs', `${spec.name}-${timestamp()}`);
      const abort = new AbortController();
      const onSigint = (): void => {
        process.stderr.write('\ninterrupted: stopping the current level and writing what was measured\n');
        abort.abort();
      };
      process.once('SIGINT', onSigint);
      const progress = createProgressReporter();
      let phase = '';
      try {
        const result = await runExperiment(spec, {
          clock: flags.clock,
          signal: abort.signal,
          hooks: {
            onMessage: (line) => process.stderr.write(`${line}\n`),
            onProgress: (config: string, which: string, snapshot: ProgressSnapshot) => {
              if (phase !== `${config}/${which}`) {
                phase = `${config}/${which}`;
                process.stderr.write(`${config}: ${which === 'direct' ? 'direct to the experts' : 'through the gateway'}\n`);
              }
              progress.update(snapshot);
            },
          },
        });
        progress.stop();
        const files = await writeExperimentOutputs(out, spec, result);
        process.stdout.write(`\nFindings:\n${result.findings.map((f) => `- [${f.verdict}] ${f.claim}\n  ${f.evidence}`).join('\n')}\n`);
        process.stdout.write(`\nreport:  ${files.report}\nsummary: ${files.summary}\n`);
      } finally {
        progress.stop();
        process.removeListener('SIGINT', onSigint);
      }
    });
}

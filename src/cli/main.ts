#!/usr/bin/env node
/** The `expert-router` command: parses arguments and hands off to one file per command. */
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { runCli } from './run.js';
import { registerTrain } from './commands/train.js';
import { registerTrainHead } from './commands/train-head.js';
import { registerRoute } from './commands/route.js';
import { registerEval } from './commands/eval.js';
import { registerServe } from './commands/serve.js';
import { registerSim } from './commands/sim.js';
import { registerBench } from './commands/bench.js';
import { registerReport } from './commands/report.js';
import { registerExperiment } from './commands/experiment.js';
import { registerDemo } from './commands/demo.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('expert-router')
  .description('Route LLM prompts to expert models by prompt classification; simulate GPU servers; measure deployments under load.')
  .version(pkg.version)
  .showHelpAfterError('(add --help for usage)');

for (const register of [registerTrain, registerTrainHead, registerRoute, registerEval, registerServe, registerSim, registerBench, registerReport, registerExperiment, registerDemo]) {
  register(program);
}

await runCli(program, process.argv);

/**
 * runExperiment: plans every configuration of a spec, runs its load levels in virtual time or live
 * (real HTTP through the gateway), and gathers one result with the findings.
 */
import { loadPrompts, type LevelSummary } from '../harness/index.js';
import { readDefaultCorpus, type LabelledText, type PromptClassifier } from '../classifier/index.js';
import { paperFindings, imbalanceFinding } from './findings.js';
import { runLiveConfig, type LiveHooks } from './live.js';
import { planExperiment, type PlannedConfig } from './plan.js';
import { expertShares } from './shares.js';
import type { ExperimentSpec } from './spec.js';
import type { ConfigResult, ExperimentClock, ExperimentResult } from './types.js';
import { routePrompts, runVirtualConfig } from './virtual.js';

export interface ExperimentHooks {
  onProgress?: LiveHooks['onProgress'];
  /** One line per milestone (config started, level done), for a log or a progress display. */
  onMessage?(line: string): void;
  onLevel?(config: string, summary: LevelSummary): void;
}

export interface RunExperimentOptions {
  clock: ExperimentClock;
  hooks?: ExperimentHooks;
  signal?: AbortSignal;
}

async function promptTexts(spec: ExperimentSpec): Promise<string[]> {
  const set = await loadPrompts(spec.load.prompts ? { kind: 'dataset', file: spec.load.prompts } : { kind: 'corpus' });
  return set.prompts.map((p) => p.text);
}

/** Median cost of one routing decision on this machine, in microseconds. */
function classifyMicros(classifier: PromptClassifier, texts: readonly string[]): number {
  const samples: number[] = [];
  const n = Math.min(texts.length, 2000);
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    classifier.predict(texts[i]);
    samples.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] ?? 0;
}

/** A configuration's result: its measured levels plus what describes the deployment. */
export function configResult(
  plan: PlannedConfig,
  run: Pick<ConfigResult, 'levels' | 'infra' | 'warnings' | 'direct_levels' | 'balanced_levels'>,
): ConfigResult {
  return {
    name: plan.name,
    kind: plan.kind,
    gpus: plan.gpus ?? null,
    experts: describeExperts(plan),
    classifier: plan.classifierSource,
    levels: run.levels,
    ...(run.direct_levels ? { direct_levels: run.direct_levels } : {}),
    ...(run.balanced_levels ? { balanced_levels: run.balanced_levels } : {}),
    expert_shares: plan.kind === 'router' ? expertShares(run.levels, plan.experts.map((e) => e.name)) : [],
    infra: run.infra,
    warnings: run.warnings,
  };
}

function describeExperts(plan: PlannedConfig): ConfigResult['experts'] {
  return plan.experts.map((e) => ({
    name: e.name,
    backend: e.backend.kind === 'sim' ? e.backend.deployment.id : `${e.backend.protocol} ${e.backend.endpoints.join(' ')}`,
    replicas: e.backend.kind === 'sim' ? e.backend.replicas : e.backend.endpoints.length,
    gpus: e.gpus ?? null,
    match: e.match,
  }));
}

export async function runExperiment(spec: ExperimentSpec, options: RunExperimentOptions): Promise<ExperimentResult> {
  const hooks = options.hooks ?? {};
  const say = (line: string): void => hooks.onMessage?.(line);
  const started = new Date();
  const texts = await promptTexts(spec);
  // Unsupervised training uses the experiment's own prompts; labels, when the corpus has them, only name clusters.
  const corpus = (): LabelledText[] => (spec.load.prompts ? texts.map((text) => ({ text })) : readDefaultCorpus());
  const plans = planExperiment(spec, corpus);
  const routed = plans.find((p) => p.classifier !== null);
  const classifyUs = routed?.classifier ? classifyMicros(routed.classifier, texts) : null;

  const configs: ConfigResult[] = [];
  for (const plan of plans) {
    if (options.signal?.aborted) break;
    say(`config ${plan.name}: ${plan.experts.length} expert(s), ${plan.gpus ?? '?'} GPU(s)${plan.classifierSource ? `, classifier: ${plan.classifierSource}` : ''}`);
    const onLevel = (summary: LevelSummary): void => {
      hooks.onLevel?.(plan.name, summary);
      say(`  ${plan.name} @ ${summary.label}: ${summary.output_tokens_per_s.toFixed(0)} tok/s, TTFT p50 ${summary.ttft_ms.p50?.toFixed(0) ?? '-'} ms, TPOT p50 ${summary.tpot_ms.p50?.toFixed(1) ?? '-'} ms, errors ${summary.errors}`);
    };
    if (options.clock === 'virtual') {
      const run = runVirtualConfig(plan, routePrompts(plan, texts), spec.load, spec.seed, { onLevel: (_c, s) => onLevel(s) });
      let balanced: LevelSummary[] | undefined;
      if (plan.kind === 'router' && plan.experts.length > 1) {
        say(`  ${plan.name}: the same load spread evenly over the experts (what imbalance costs)`);
        balanced = runVirtualConfig(plan, routePrompts(plan, texts, true), spec.load, spec.seed).levels;
      }
      configs.push(configResult(plan, { ...run, warnings: [], balanced_levels: balanced }));
    } else {
      const live = await runLiveConfig(plan, spec, texts, { onProgress: hooks.onProgress, onLevel }, options.signal);
      configs.push(configResult(plan, live));
    }
  }

  const findings = spec.findings === 'paper' ? paperFindings(configs, spec.load.slo, classifyUs) : [imbalanceFinding(configs)];
  return {
    name: spec.name,
    clock: options.clock,
    started_at: started.toISOString(),
    finished_at: new Date().toISOString(),
    configs,
    findings,
    classify_us_p50: classifyUs,
  };
}

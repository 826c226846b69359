/** The virtual clock: every configuration and level simulated in-process, as fast as the CPU allows. */
import { summarizeLevel, type InfraSeries, type LevelSummary } from '../harness/index.js';
import { renderLlama3 } from '../protocol/index.js';
import { countPromptTokens } from '../sim/index.js';
import { expertIndexFor, type PlannedConfig } from './plan.js';
import type { LoadPlan } from './spec.js';
import { runVirtualLevel, type RoutedPrompt } from './virtual-runner.js';

export interface VirtualConfigRun {
  levels: LevelSummary[];
  infra: InfraSeries[];
}

/** Prompt tokens of a one-message chat request, counted as the simulator's server counts them. */
export function chatPromptTokens(text: string): number {
  return countPromptTokens(renderLlama3([{ role: 'user', content: text }]));
}

/** Routes every prompt once: classification is deterministic, so each level reuses the decisions. */
export function routePrompts(plan: PlannedConfig, texts: readonly string[], spread = false): RoutedPrompt[] {
  return texts.map((text, i) => {
    const promptTokens = chatPromptTokens(text);
    if (spread) return { promptTokens, expert: i % plan.experts.length, cluster: -1 };
    if (!plan.classifier) return { promptTokens, expert: 0, cluster: 0 };
    const p = plan.classifier.predict(text);
    return { promptTokens, expert: expertIndexFor(plan, p.label, p.cluster), cluster: p.cluster };
  });
}

export interface VirtualRunHooks {
  onLevel?(config: string, summary: LevelSummary, wallMs: number): void;
}

export function runVirtualConfig(
  plan: PlannedConfig,
  prompts: readonly RoutedPrompt[],
  load: LoadPlan,
  seed: number,
  hooks: VirtualRunHooks = {},
): VirtualConfigRun {
  const levels: LevelSummary[] = [];
  const infra: InfraSeries[] = [];
  let offset = 0;
  load.users.forEach((users, level) => {
    const started = performance.now();
    const run = runVirtualLevel(plan.experts, prompts, { users, load, seed, level, timelineOffsetMs: offset });
    offset += run.elapsedMs;
    const summary = summarizeLevel(run.records, { slo: load.slo, level, users });
    levels.push(summary);
    mergeInfra(infra, run.infra);
    hooks.onLevel?.(plan.name, summary, performance.now() - started);
  });
  return { levels, infra };
}

function mergeInfra(into: InfraSeries[], more: readonly InfraSeries[]): void {
  for (const s of more) {
    const existing = into.find((e) => e.target === s.target && e.metric === s.metric);
    if (existing) existing.points.push(...s.points);
    else into.push({ ...s, points: [...s.points] });
  }
}

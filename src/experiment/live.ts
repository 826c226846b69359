/**
 * The live clock: simulated experts and the gateway as real HTTP servers on loopback, driven by the
 * harness. Each routed configuration is measured twice with the same load: through the gateway, and
 * straight to the experts with the client routing by the same classifier, so the gateway's added
 * latency shows in the report.
 */
import { runBench, subSeed, type BenchOptions, type InfraSeries, type LevelSummary, type Prompt, type ProgressSnapshot } from '../harness/index.js';

import { parseGatewayConfig, startGateway, type RunningGateway } from '../gateway/index.js';
import { startSimServer, type SimServer } from '../sim/index.js';
import { silentLogger } from '../telemetry/index.js';
import { expertIndexFor, type PlannedConfig } from './plan.js';
import type { ExperimentSpec } from './spec.js';
import { chatPromptTokens } from './virtual.js';

export interface LiveHooks {
  onProgress?(config: string, phase: 'gateway' | 'direct', snapshot: ProgressSnapshot): void;
  onLevel?(summary: LevelSummary): void;
}

export interface LiveConfigRun {
  levels: LevelSummary[];
  direct_levels?: LevelSummary[];
  infra: InfraSeries[];
  warnings: string[];
}

/** The experts' servers: started simulators and given real endpoints, per expert. */
export interface ExpertTargets {
  urls: string[][];
  models: string[];
  simulators: SimServer[];
}

async function startExperts(plan: PlannedConfig, seed: number): Promise<ExpertTargets> {
  const targets: ExpertTargets = { urls: [], models: [], simulators: [] };
  try {
    for (const [e, expert] of plan.experts.entries()) {
      const backend = expert.backend;
      if (backend.kind === 'endpoints') {
        targets.urls.push(backend.endpoints);
        targets.models.push(backend.model ?? expert.name);
        continue;
      }
      const urls: string[] = [];
      for (let r = 0; r < backend.replicas; r++) {
        const server = await startSimServer({ profile: backend.deployment, host: '127.0.0.1', port: 0, seed: subSeed(seed, e, r) });
        targets.simulators.push(server);
        urls.push(server.url);
      }
      targets.urls.push(urls);
      targets.models.push(backend.deployment.modelName);
    }
  } catch (err) {
    await Promise.allSettled(targets.simulators.map((s) => s.close()));
    throw err;
  }
  return targets;
}

async function startRouterGateway(plan: PlannedConfig, targets: ExpertTargets): Promise<RunningGateway> {
  const config = parseGatewayConfig({
    listen: { host: '127.0.0.1', port: 0 },
    experts: plan.experts.map((e, i) => ({
      name: e.name,
      protocol: e.backend.kind === 'endpoints' ? e.backend.protocol : 'openai',
      model: targets.models[i],
      endpoints: targets.urls[i],
      match: e.match,
    })),
    default_expert: plan.defaultExpert,
  });
  const gateway = await startGateway(config, { classifier: plan.classifier ?? undefined, logger: silentLogger });
  await gateway.checkHealth();
  if (!gateway.ready()) {
    await gateway.close();
    throw new Error(`config '${plan.name}': the gateway's experts did not answer their health checks`);
  }
  return gateway;
}

function benchOptions(spec: ExperimentSpec, texts: readonly string[], name: string): Omit<BenchOptions, 'target'> {
  const load = spec.load;
  const prompts: Prompt[] = texts.map((text) => ({ text }));
  return {
    name,
    load: {
      mode: 'closed',
      users: load.users,
      rampUpMs: load.ramp_up_s * 1000,
      ...(load.think_time_ms > 0
        ? { thinkTime: load.think_time === 'exponential' ? { kind: 'exponential' as const, meanMs: load.think_time_ms } : { kind: 'fixed' as const, ms: load.think_time_ms } }
        : {}),
    },
    durationMs: load.duration_s * 1000,
    warmupMs: load.warmup_s * 1000,
    prompts: { source: load.prompts ?? 'corpus', prompts },
    maxTokens: load.max_tokens,
    ignoreEos: load.ignore_eos,
    slo: load.slo,
    seed: spec.seed,
  };
}

/** A configuration's servers, running: what the load is sent to, and how to stop it all. */
export interface LiveDeployment {
  gateway: RunningGateway | undefined;
  /** Where the measured load goes: the gateway, or the single simulator of a one-replica deployment. */
  target: string;
  model: string;
  experts: ExpertTargets;
  close(): Promise<void>;
}

export async function startLiveDeployment(plan: PlannedConfig, seed: number): Promise<LiveDeployment> {
  const experts = await startExperts(plan, seed);
  const stopExperts = (): Promise<unknown> => Promise.allSettled(experts.simulators.map((s) => s.close()));
  const direct = plan.kind === 'single' && experts.urls[0].length === 1;
  let gateway: RunningGateway | undefined;
  if (!direct) {
    try {
      gateway = await startRouterGateway(plan, experts);
    } catch (err) {
      await stopExperts();
      throw err;
    }
  }
  return {
    gateway,
    target: gateway ? gateway.url : experts.urls[0][0],
    model: gateway ? (plan.kind === 'single' ? plan.experts[0].name : 'auto') : experts.models[0],
    experts,
    async close() {
      await gateway?.close();
      await stopExperts();
    },
  };
}

/** Runs the spec's levels against a running deployment: through it, then (routed configs) direct. */
export async function measureLive(
  deployment: LiveDeployment,
  plan: PlannedConfig,
  spec: ExperimentSpec,
  texts: readonly string[],
  hooks: LiveHooks,
  signal?: AbortSignal,
): Promise<LiveConfigRun> {
  const { experts } = deployment;
  // The in-process simulators cache prompt token counts: count every prompt now, so neither the
  // gateway pass nor the direct pass (which comes second) pays the tokenizer on the clock.
  if (experts.simulators.length > 0) for (const text of texts) chatPromptTokens(text);
  const scrape = experts.simulators.map((s) => `${s.url}/metrics`);
  const base = benchOptions(spec, texts, plan.name);
  const routed = await runBench(
    { ...base, target: deployment.target, model: deployment.model, scrape },
    { signal, onProgress: (s) => hooks.onProgress?.(plan.name, 'gateway', s), onLevelDone: (s) => hooks.onLevel?.(s) },
  );
  const run: LiveConfigRun = { levels: routed.levels, infra: routed.infra, warnings: routed.warnings };
  if (plan.kind === 'router' && plan.classifier && !signal?.aborted) {
    const classifier = plan.classifier;
    const next = experts.urls.map(() => 0);
    const direct = await runBench(
      {
        ...base,
        target: experts.urls[0][0],
        model: experts.models[0],
        // The client routes as the gateway would, replicas taken in turn.
        route: (prompt) => {
          const p = classifier.predict(prompt.text);
          const e = expertIndexFor(plan, p.label, p.cluster);
          const urls = experts.urls[e];
          const url = urls[next[e]++ % urls.length];
          return { target: url, model: experts.models[e], expert: plan.experts[e].name };
        },
      },
      { signal, onProgress: (s) => hooks.onProgress?.(plan.name, 'direct', s) },
    );
    run.direct_levels = direct.levels;
    run.warnings.push(...direct.warnings.map((w) => `direct: ${w}`));
  }
  return run;
}

export async function runLiveConfig(
  plan: PlannedConfig,
  spec: ExperimentSpec,
  texts: readonly string[],
  hooks: LiveHooks,
  signal?: AbortSignal,
): Promise<LiveConfigRun> {
  const deployment = await startLiveDeployment(plan, spec.seed);
  try {
    return await measureLive(deployment, plan, spec, texts, hooks, signal);
  } finally {
    await deployment.close();
  }
}

/**
 * The routing decision: a request that names an expert goes to it; anything else ("auto" or an
 * unknown name) is classified and sent to the expert whose `match` holds the cluster's label or id,
 * or to the default expert when none does. The cluster-to-expert table is built once at start.
 */
import type { BackendProtocol } from '../backends/index.js';
import type { ExpertPool } from '../balancer/index.js';
import type { Prediction, PromptClassifier } from '../classifier/types.js';
import { ConfigError, type ClassifyField, type ExpertConfig } from '../config/index.js';
import type { RequestKind } from '../backends/index.js';
import type { ReplicaSeries } from '../telemetry/metrics.js';
import { textToClassify } from './classify-text.js';

/** An expert as the gateway runs it: its config, replicas, protocol and metric series per replica. */
export interface ExpertRuntime {
  config: ExpertConfig;
  pool: ExpertPool;
  backend: BackendProtocol;
  /** Metric series by replica URL. */
  series: Map<string, ReplicaSeries>;
  /** Headers of every upstream request to this expert. */
  upstreamHeaders: Record<string, string>;
}

export type RouteReason = 'named' | 'classified' | 'default';

export interface RouteDecision {
  expert: ExpertRuntime;
  reason: RouteReason;
  /** Absent when the request named an expert (nothing was classified). */
  prediction: Prediction | undefined;
  classifyMs: number;
}

export class ExpertRouter {
  private readonly byName = new Map<string, ExpertRuntime>();
  /** Expert for each cluster id, and whether a `match` chose it (false: the default expert). */
  private readonly byCluster: { expert: ExpertRuntime; matched: boolean }[];

  constructor(
    readonly experts: readonly ExpertRuntime[],
    readonly classifier: PromptClassifier,
    defaultExpert: string | undefined,
    private readonly fields: readonly ClassifyField[],
  ) {
    for (const e of experts) this.byName.set(e.config.name, e);
    const fallback = defaultExpert === undefined ? experts[0] : this.byName.get(defaultExpert);
    if (!fallback) throw new ConfigError(`default_expert: no expert is named '${defaultExpert}'`);
    this.byCluster = Array.from({ length: classifier.k }, () => ({ expert: fallback, matched: false }));
    experts.forEach((expert, i) => {
      expert.config.match.forEach((entry, j) => {
        for (const cluster of this.clustersOf(entry, `experts[${i}].match[${j}]`)) {
          const slot = this.byCluster[cluster];
          if (slot.matched && slot.expert !== expert) {
            throw new ConfigError(`experts[${i}].match[${j}]: cluster ${cluster} (${classifier.clusterLabels[cluster]}) is already matched by expert '${slot.expert.config.name}'`);
          }
          this.byCluster[cluster] = { expert, matched: true };
        }
      });
    });
  }

  /** Cluster ids a `match` entry names: a cluster id, or every cluster carrying that label. */
  private clustersOf(entry: string | number, key: string): number[] {
    const labels = this.classifier.clusterLabels;
    if (typeof entry === 'number') {
      if (entry >= this.classifier.k) throw new ConfigError(`${key}: cluster ${entry} does not exist (the classifier has ${this.classifier.k} clusters)`);
      return [entry];
    }
    const ids = labels.flatMap((label, id) => (label === entry ? [id] : []));
    if (ids.length === 0) throw new ConfigError(`${key}: no cluster is labelled '${entry}' (labels: ${[...new Set(labels)].join(', ')})`);
    return ids;
  }

  expert(name: string): ExpertRuntime | undefined {
    return this.byName.get(name);
  }

  decide(kind: RequestKind, body: Record<string, unknown>): RouteDecision {
    const named = this.byName.get(body.model as string);
    if (named) return { expert: named, reason: 'named', prediction: undefined, classifyMs: 0 };
    const text = textToClassify(kind, body, this.fields);
    const t0 = performance.now();
    const prediction = this.classifier.predict(text);
    const classifyMs = performance.now() - t0;
    const slot = this.byCluster[prediction.cluster];
    return { expert: slot.expert, reason: slot.matched ? 'classified' : 'default', prediction, classifyMs };
  }

  /** The expert each cluster goes to, for /v1/route. */
  expertOfCluster(cluster: number): ExpertRuntime {
    return this.byCluster[cluster].expert;
  }
}

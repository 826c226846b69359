/**
 * The routing decision, in this order:
 * 1. `model` names an expert, or the upstream model of exactly one expert: that expert (`pinned`);
 * 2. `model` is neither a routing alias (`auto`) nor an upstream model several experts share:
 *    404 model_not_found, unless routing.unknown_model is `classify`;
 * 3. the request's x-session-id is known: the expert the session went to (`session`);
 * 4. no usable text (image-only, punctuation): the default expert (`no_text`);
 * 5. the classifier's cluster goes to the expert whose `match` holds it (or the default expert when
 *    none does) (`classified`), unless its confidence is below the expert's threshold (or the global
 *    one): then the default expert (`low_confidence`);
 * 6. a model shared by several experts keeps the request among them.
 * The cluster-to-expert table is built once per configuration.
 */
import type { BackendProtocol } from '../backends/index.js';
import type { ExpertPool } from '../balancer/index.js';
import type { Prediction, PromptClassifier } from '../classifier/types.js';
import type { DecisionReason, DecisionTier, EmbeddingCascade } from '../classifier/embedding/index.js';
import { ConfigError, type ExpertConfig, type GatewayConfig } from '../config/index.js';
import type { RequestKind } from '../backends/index.js';
import { ApiError } from '../protocol/index.js';
import type { ReplicaSeries } from '../telemetry/metrics.js';
import { textToClassify } from './classify-text.js';
import type { SessionTable } from './session-table.js';

/** An expert as the gateway runs it: its config, replicas, protocol and metric series per replica. */
export interface ExpertRuntime {
  config: ExpertConfig;
  pool: ExpertPool;
  backend: BackendProtocol;
  /** Metric series by replica URL. */
  series: Map<string, ReplicaSeries>;
  /** Headers of every upstream request to this expert. */
  upstreamHeaders: Record<string, string>;
  /** Path prefix of the expert's endpoints ('' for none), put before every upstream path. */
  pathPrefix: string;
}

export type RouteReason = 'pinned' | 'session' | 'classified' | 'low_confidence' | 'no_text';

export interface RouteDecision {
  expert: ExpertRuntime;
  reason: RouteReason;
  /** Absent when nothing was classified (pinned, session, no text). */
  prediction: Prediction | undefined;
  classifyMs: number;
  /** With classifier.embedding: which tier decided and why (embedding time is part of classifyMs). */
  embedding?: { tier: DecisionTier; reason: DecisionReason; errorCode?: string };
  /** The text that was (or would have been) classified; empty for a pinned request. */
  text: string;
}

/** Threshold and expert of one cluster. */
interface ClusterSlot {
  expert: ExpertRuntime;
  /** A `match` chose the expert (false: the default expert takes the cluster). */
  matched: boolean;
}

export class ExpertRouter {
  private readonly byName = new Map<string, ExpertRuntime>();
  /** Names that pin one expert: expert names, and upstream model names only one expert serves. */
  private readonly pins = new Map<string, ExpertRuntime>();
  /** Upstream model names several experts serve: the request stays among them. */
  private readonly shared = new Map<string, ExpertRuntime[]>();
  private readonly aliases: ReadonlySet<string>;
  private readonly byCluster: ClusterSlot[];
  readonly defaultExpert: ExpertRuntime;

  constructor(
    readonly experts: readonly ExpertRuntime[],
    readonly classifier: PromptClassifier,
    private readonly config: Pick<GatewayConfig, 'default_expert' | 'classify' | 'routing'>,
    private readonly sessions: SessionTable,
    /** The embedding tier, when classifier.embedding is configured. */
    readonly cascade?: EmbeddingCascade,
  ) {
    this.aliases = new Set(config.routing.aliases);
    for (const e of experts) this.byName.set(e.config.name, e);
    const fallback = config.default_expert === undefined ? experts[0] : this.byName.get(config.default_expert);
    if (!fallback) throw new ConfigError(`default_expert: no expert is named '${config.default_expert}'`);
    this.defaultExpert = fallback;
    const byModel = new Map<string, ExpertRuntime[]>();
    for (const e of experts) byModel.set(e.config.model, [...(byModel.get(e.config.model) ?? []), e]);
    for (const [model, list] of byModel) {
      if (list.length === 1) this.pins.set(model, list[0]);
      else this.shared.set(model, list);
    }
    for (const e of experts) this.pins.set(e.config.name, e);
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

  /** The decision for a validated request body; `session` is the client's x-session-id, if any. */
  decide(kind: RequestKind, body: Record<string, unknown>, session?: string): RouteDecision {
    const model = body.model as string;
    const pinned = this.pins.get(model);
    if (pinned) return { expert: pinned, reason: 'pinned', prediction: undefined, classifyMs: 0, text: '' };
    const among = this.shared.get(model);
    if (!among && !this.aliases.has(model) && this.config.routing.unknown_model === 'reject') {
      throw new ApiError('model_not_found', `the model '${model}' does not exist: use ${[...this.aliases].map((a) => `'${a}'`).join(' or ')}, an expert's name or an expert's model (GET /v1/models lists them)`, { param: 'model' });
    }
    const { text, usable } = textToClassify(kind, body, this.config.classify.fields);
    if (session !== undefined) {
      const remembered = this.byName.get(this.sessions.get(session) ?? '');
      if (remembered && (!among || among.includes(remembered))) return { expert: remembered, reason: 'session', prediction: undefined, classifyMs: 0, text };
    }
    let decision = this.classify(text, usable);
    if (among && !among.includes(decision.expert)) decision = { ...decision, expert: among[0], reason: 'pinned' };
    if (session !== undefined) this.sessions.set(session, decision.expert.config.name);
    return decision;
  }

  /** Steps 4 and 5: the classifier's decision, or the default expert when it has nothing to go on. */
  private classify(text: string, usable: boolean): RouteDecision {
    if (!usable) return { expert: this.defaultExpert, reason: 'no_text', prediction: undefined, classifyMs: 0, text };
    const t0 = performance.now();
    const prediction = this.classifier.predict(text);
    const classifyMs = performance.now() - t0;
    const decision = this.route(prediction, text, classifyMs);
    const triage = this.cascade?.triage(prediction, text);
    if (triage !== undefined && triage !== 'escalate') decision.embedding = { tier: 'lexical', reason: triage };
    return decision;
  }

  /** Whether the embedding tier should see this decision (a classified prompt the lexical tier is unsure of): then `refine` it. */
  escalates(decision: RouteDecision): boolean {
    return this.cascade !== undefined && decision.prediction !== undefined && decision.embedding === undefined && (decision.reason === 'classified' || decision.reason === 'low_confidence');
  }

  /** The decision after the embedding tier, routed as `decide` routes a lexical one; never rejects. */
  async refine(decision: RouteDecision, body: Record<string, unknown>, session: string | undefined, signal?: AbortSignal): Promise<RouteDecision> {
    const verdict = await this.cascade!.decide(decision.text, decision.prediction!, signal);
    const embedding = { tier: verdict.tier, reason: verdict.reason, ...(verdict.errorCode === undefined ? {} : { errorCode: verdict.errorCode }) };
    const classifyMs = decision.classifyMs + verdict.embeddingMs;
    if (verdict.tier === 'lexical') return { ...decision, classifyMs, embedding };
    let next: RouteDecision = { ...this.route(verdict.prediction, decision.text, classifyMs), embedding };
    const among = this.shared.get(body.model as string);
    if (among && !among.includes(next.expert)) next = { ...next, expert: among[0], reason: 'pinned' };
    if (session !== undefined) this.sessions.set(session, next.expert.config.name);
    return next;
  }

  /** Step 5 for a prediction: its cluster's expert, or the default expert below the expert's confidence threshold. */
  private route(prediction: Prediction, text: string, classifyMs: number): RouteDecision {
    const slot = this.byCluster[prediction.cluster];
    const threshold = slot.expert.config.confidence_threshold ?? this.config.routing.confidence_threshold;
    if (prediction.confidence < threshold) return { expert: this.defaultExpert, reason: 'low_confidence', prediction, classifyMs, text };
    return { expert: slot.expert, reason: 'classified', prediction, classifyMs, text };
  }

  /** The expert each cluster goes to, for /v1/route. */
  expertOfCluster(cluster: number): ExpertRuntime {
    return this.byCluster[cluster].expert;
  }

  /** The confidence below which a classification for this expert goes to the default expert. */
  thresholdOf(expert: ExpertRuntime): number {
    return expert.config.confidence_threshold ?? this.config.routing.confidence_threshold;
  }
}

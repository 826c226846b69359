/**
 * Turns a configuration of the spec into a concrete deployment: its experts with their simulator
 * profiles or real endpoints, the GPUs it uses, and the classifier that routes its prompts.
 */
import { trainClassifier, defaultModel, loadModel, type PromptClassifier, type LabelledText } from '../classifier/index.js';
import { resolveProfile, type Deployment } from '../sim/index.js';
import { SpecError, type ConfigSpec, type ExperimentSpec } from './spec.js';

export type ExpertBackend =
  | { kind: 'sim'; deployment: Deployment; replicas: number }
  | { kind: 'endpoints'; endpoints: string[]; protocol: 'openai' | 'triton'; model: string | undefined; gpusPerReplica: number | undefined };

export interface PlannedExpert {
  name: string;
  /** Classifier labels or cluster ids this expert serves (a single deployment serves everything). */
  match: Array<string | number>;
  backend: ExpertBackend;
  gpus: number | undefined;
}

export interface PlannedConfig {
  name: string;
  kind: 'router' | 'single';
  experts: PlannedExpert[];
  /** Total GPUs, when every expert's count is known (simulated, or stated for real endpoints). */
  gpus: number | undefined;
  /** What routes prompts: null for a single deployment. */
  classifier: PromptClassifier | null;
  classifierSource: string | null;
  defaultExpert: string;
}

type BackendFields = {
  profile?: string;
  endpoints?: string[];
  protocol: 'openai' | 'triton';
  model?: string;
  replicas: number;
  gpus_per_replica?: number;
};

function backendOf(fields: BackendFields, where: string): { backend: ExpertBackend; gpus: number | undefined } {
  if (fields.profile !== undefined) {
    let deployment: Deployment;
    try {
      deployment = resolveProfile(fields.profile);
    } catch (err) {
      throw new SpecError(`${where}.profile: ${(err as Error).message}`);
    }
    return { backend: { kind: 'sim', deployment, replicas: fields.replicas }, gpus: deployment.gpus * fields.replicas };
  }
  const endpoints = fields.endpoints ?? [];
  return {
    backend: { kind: 'endpoints', endpoints, protocol: fields.protocol, model: fields.model, gpusPerReplica: fields.gpus_per_replica },
    gpus: fields.gpus_per_replica === undefined ? undefined : fields.gpus_per_replica * endpoints.length,
  };
}

/** Classifiers trained for a spec, shared by configurations that ask for the same k. */
export class ClassifierCache {
  private readonly trained = new Map<number, PromptClassifier>();

  constructor(
    private readonly corpus: () => LabelledText[],
    private readonly seed: number,
  ) {}

  forConfig(config: Extract<ConfigSpec, { kind: 'router' }>, experts: number): { classifier: PromptClassifier; source: string } {
    const c = config.classifier;
    if (c.model !== undefined) {
      try {
        return { classifier: loadModel(c.model), source: c.model };
      } catch (err) {
        throw new SpecError(`configs '${config.name}'.classifier.model: ${(err as Error).message}`);
      }
    }
    if (c.train_k === undefined) return { classifier: defaultModel(), source: 'built-in default model (supervised, six labels)' };
    const k = c.train_k === 'experts' ? experts : c.train_k;
    let classifier = this.trained.get(k);
    if (!classifier) {
      classifier = trainClassifier(this.corpus(), { k, supervised: false, seed: this.seed });
      this.trained.set(k, classifier);
    }
    return { classifier, source: `k-means, k=${k}, unsupervised, seed ${this.seed}, trained on the experiment's prompts` };
  }
}

export function planConfig(config: ConfigSpec, index: number, classifiers: ClassifierCache): PlannedConfig {
  const where = `configs[${index}]`;
  let experts: PlannedExpert[];
  let classifier: PromptClassifier | null = null;
  let classifierSource: string | null = null;
  let defaultExpert: string;
  if (config.kind === 'single') {
    const { backend, gpus } = backendOf(config, where);
    experts = [{ name: config.name, match: [], backend, gpus }];
    defaultExpert = config.name;
  } else {
    if (Array.isArray(config.experts)) {
      experts = config.experts.map((e, i) => ({ name: e.name, match: e.match, ...backendOf(e, `${where}.experts[${i}]`) }));
      const names = new Set<string>();
      for (const e of experts) {
        if (names.has(e.name)) throw new SpecError(`${where}.experts: duplicate expert name '${e.name}'`);
        names.add(e.name);
      }
    } else {
      const group = config.experts;
      experts = Array.from({ length: group.count }, (_, i) => ({
        name: `${group.name_prefix}${i}`,
        match: [i],
        ...backendOf(group, `${where}.experts`),
      }));
    }
    const chosen = classifiers.forConfig(config, experts.length);
    classifier = chosen.classifier;
    classifierSource = chosen.source;
    defaultExpert = config.default_expert ?? experts[0].name;
    if (!experts.some((e) => e.name === defaultExpert)) {
      throw new SpecError(`${where}.default_expert: '${defaultExpert}' is not one of the experts (${experts.map((e) => e.name).join(', ')})`);
    }
  }
  const known = experts.every((e) => e.gpus !== undefined);
  const gpus = known ? experts.reduce((sum, e) => sum + (e.gpus ?? 0), 0) : undefined;
  if (config.gpus !== undefined && gpus !== undefined && config.gpus !== gpus) {
    throw new SpecError(`${where}.gpus: the configuration states ${config.gpus} GPUs but its experts use ${gpus}`);
  }
  return { name: config.name, kind: config.kind, experts, gpus: gpus ?? config.gpus, classifier, classifierSource, defaultExpert };
}

/** Which expert serves a prediction: the first whose match lists the label or the cluster id. */
export function expertIndexFor(plan: PlannedConfig, label: string, cluster: number): number {
  if (plan.kind === 'single') return 0;
  const byMatch = plan.experts.findIndex((e) => e.match.includes(cluster) || e.match.includes(label));
  return byMatch >= 0 ? byMatch : plan.experts.findIndex((e) => e.name === plan.defaultExpert);
}

export function planExperiment(spec: ExperimentSpec, corpus: () => LabelledText[]): PlannedConfig[] {
  const classifiers = new ClassifierCache(corpus, spec.seed);
  return spec.configs.map((c, i) => planConfig(c, i, classifiers));
}

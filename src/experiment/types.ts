/** What an experiment produces: per configuration, the harness's per-level figures and context. */
import type { InfraSeries, LevelSummary } from '../harness/index.js';

export type ExperimentClock = 'virtual' | 'live';

export interface ExpertShare {
  expert: string;
  requests: number;
  share: number;
}

export interface ConfigResult {
  name: string;
  kind: 'router' | 'single';
  gpus: number | null;
  /** Profiles or endpoints, one line per expert, for the report. */
  experts: Array<{ name: string; backend: string; replicas: number; gpus: number | null; match: Array<string | number> }>;
  classifier: string | null;
  levels: LevelSummary[];
  /** Live clock: the same load sent straight to the experts, each prompt to the expert the classifier picks. */
  direct_levels?: LevelSummary[];
  /** Virtual clock, routed configurations: the same hardware with prompts spread evenly over the experts. */
  balanced_levels?: LevelSummary[];
  /** Share of all measured requests each expert served, over every level. */
  expert_shares: ExpertShare[];
  infra: InfraSeries[];
  warnings: string[];
}

export interface Finding {
  id: string;
  claim: string;
  verdict: 'supported' | 'partly supported' | 'contradicted' | 'not measured';
  evidence: string;
}

export interface ExperimentResult {
  name: string;
  clock: ExperimentClock;
  started_at: string;
  finished_at: string;
  configs: ConfigResult[];
  findings: Finding[];
  /** Cost of classification measured on this machine, per prompt (median, microseconds). */
  classify_us_p50: number | null;
}

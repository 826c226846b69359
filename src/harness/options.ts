/** The harness's options, hooks and result shapes, and the target URL's parsing. */
import type { LevelSummary } from './metrics.js';
import type { PromptSet } from './prompts.js';
import type { InfraSeries } from './scrape.js';
import type { LoadSpec, Prompt, Protocol, RequestRecord, Slo } from './types.js';
import { HarnessError } from './errors.js';

export interface BenchOptions {
  /** Base URL of the endpoint (the gateway, the simulator, vLLM, Triton); a trailing /v1 is ignored. */
  target: string;
  protocol?: Protocol;
  /** Model name to request; by default the first of /v1/models (openai) or 'ensemble' (triton). */
  model?: string;
  load: LoadSpec;
  /** Measured time per level after the warm-up (default 30 s); ignored when `requests` is set. */
  durationMs?: number;
  /** Warm-up per level: requests sent during it are recorded but excluded from the figures. */
  warmupMs?: number;
  /** Measured requests per level (after the warm-up), instead of a duration. */
  requests?: number;
  prompts: PromptSet;
  maxTokens?: number;
  ignoreEos?: boolean;
  slo?: Slo;
  /** Prometheus endpoints sampled every `scrapeIntervalMs` (default 1 s) for the whole run. */
  scrape?: string[];
  scrapeIntervalMs?: number;
  seed?: number;
  /** A request that receives nothing for this long ends as stall_timeout (default 120 s). */
  stallTimeoutMs?: number;
  /** How long a level waits for its in-flight requests once it stops sending (default 60 s). */
  drainTimeoutMs?: number;
  connectTimeoutMs?: number;
  headers?: Record<string, string>;
  name?: string;
  /**
   * Client-side routing (a baseline that bypasses a gateway): picks each prompt's target base URL,
   * model and, for the records, the expert's name. `target` and `model` above are then the defaults.
   */
  route?: (prompt: Prompt) => RouteChoice;
}

export interface RouteChoice {
  target: string;
  model: string;
  expert?: string;
}

export interface ProgressSnapshot {
  level: number;
  levels: number;
  label: string;
  elapsed_s: number;
  /** Planned length of the level (warm-up included), when it runs for a duration. */
  planned_s: number | null;
  warmup: boolean;
  completed: number;
  errors: number;
  inflight: number;
  /** Over the last progress interval. */
  requests_per_s: number;
  output_tokens_per_s: number;
}

export interface BenchHooks {
  onProgress?(snapshot: ProgressSnapshot): void;
  onLevelDone?(summary: LevelSummary): void;
  /** Aborting ends the current level at once (in-flight requests are cancelled) and skips the rest. */
  signal?: AbortSignal;
  progressIntervalMs?: number;
}

export interface RunMeta {
  name: string;
  target: string;
  protocol: Protocol;
  model: string;
  mode: 'closed' | 'open';
  started_at: string;
  finished_at: string;
  seed: number;
  prompt_source: string;
  prompts: number;
  settings: Record<string, unknown>;
}

export interface BenchResult {
  meta: RunMeta;
  levels: LevelSummary[];
  records: RequestRecord[];
  infra: InfraSeries[];
  warnings: string[];
}

export const DEFAULT_DURATION_MS = 30_000;

export function splitTarget(target: string): { origin: string; basePath: string } {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new HarnessError('invalid_option', `target '${target}' is not a URL (example: http://127.0.0.1:8000)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new HarnessError('invalid_option', `target '${target}' must be http:// or https://`);
  const basePath = url.pathname.replace(/\/+$/, '').replace(/\/v1$/, '');
  return { origin: url.origin, basePath };
}

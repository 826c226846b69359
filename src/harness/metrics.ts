/**
 * The one implementation of the metric definitions in docs/architecture.md, as a pure function of the records.
 *
 * For a request: t_s = scheduled_ms (open loop) or sent_ms (closed loop); t_1..t_K the arrivals of
 * chunks carrying output text; n the output tokens. TTFT = t_1 - t_s, E2E = t_K - t_s,
 * TPOT = (E2E - TTFT)/(n - 1) for n >= 2, ITL = every gap t_{k+1} - t_k pooled, NTPOT = E2E / n.
 * Throughputs divide by T, from the first send to the last completion of the measured records.
 */
import { summarize, round3, type Stats } from './stats.js';
import type { RequestRecord, Slo } from './types.js';

export interface ClientHealth {
  event_loop_delay_ms: { p50: number; p99: number; max: number };
  /** CPU time (user + system) the harness process spent per completed or failed request. */
  cpu_ms_per_request: number | null;
  /** Share of one core the harness process used during the level. */
  cpu_percent: number;
  /** False when the client's own delays were large enough to distort its timings. */
  trusted: boolean;
  warnings: string[];
}

export interface ExpertSummary {
  requests: number;
  completed: number;
  errors: number;
  /** Share of the level's measured requests this expert served. */
  share: number;
  output_tokens: number;
  output_tokens_per_s: number;
  ttft_ms: Stats;
  e2e_ms: Stats;
}

export interface LevelSummary {
  level: number;
  label: string;
  mode: 'closed' | 'open';
  /** Closed loop: concurrent users. */
  users?: number;
  /** Open loop: the offered arrival rate (requests/s). */
  rate?: number;
  offered_rate_per_s: number | null;
  /** Completed requests per second over T (equal to requests_per_s; kept beside the offered rate). */
  achieved_rate_per_s: number;
  /** T in seconds. */
  duration_s: number;
  window: { start_ms: number; end_ms: number } | null;
  requests: number;
  completed: number;
  errors: number;
  error_rate: number;
  errors_by_kind: Record<string, number>;
  warmup_requests: number;
  ttft_ms: Stats;
  tpot_ms: Stats;
  itl_ms: Stats;
  e2e_ms: Stats;
  ntpot_ms: Stats;
  /** Open loop: how late requests left relative to their scheduled time (client punctuality). */
  send_lag_ms: Stats | null;
  requests_per_s: number;
  output_tokens_per_s: number;
  goodput_per_s: number;
  slo: Slo | null;
  /** Share of completed requests meeting every SLO (1 when no SLO was given). */
  slo_attainment: number | null;
  output_tokens: number;
  tokens_source: { usage: number; counted: number };
  prompt_tokens_mean: number | null;
  per_expert: Record<string, ExpertSummary>;
  client?: ClientHealth;
}

export interface SummarizeOptions {
  slo?: Slo;
  level?: number;
  label?: string;
  users?: number;
  rate?: number;
  client?: ClientHealth;
}

interface Timings {
  ttft?: number;
  e2e?: number;
  tpot?: number;
  ntpot?: number;
}

export function requestStart(r: RequestRecord): number {
  return r.scheduled_ms ?? r.sent_ms;
}

/** The per-request figures; records without chunk times fall back to ttft_ms and end_ms. */
export function requestTimings(r: RequestRecord): Timings {
  const ts = requestStart(r);
  const k = r.chunk_times_ms.length;
  let ttft: number | undefined;
  let e2e: number | undefined;
  if (k > 0) {
    ttft = r.sent_ms + r.chunk_times_ms[0] - ts;
    e2e = r.sent_ms + r.chunk_times_ms[k - 1] - ts;
  } else if (r.ttft_ms !== undefined) {
    ttft = r.ttft_ms;
    e2e = r.end_ms - ts;
  }
  const n = r.output_tokens;
  const out: Timings = { ttft, e2e };
  if (ttft !== undefined && e2e !== undefined && n >= 2) out.tpot = (e2e - ttft) / (n - 1);
  if (e2e !== undefined && n >= 1) out.ntpot = e2e / n;
  return out;
}

export function meetsSlo(t: Timings, slo: Slo | undefined): boolean {
  if (!slo) return true;
  if (slo.ttft_ms !== undefined && (t.ttft === undefined || t.ttft > slo.ttft_ms)) return false;
  if (slo.tpot_ms !== undefined && t.tpot !== undefined && t.tpot > slo.tpot_ms) return false;
  if (slo.e2e_ms !== undefined && (t.e2e === undefined || t.e2e > slo.e2e_ms)) return false;
  return true;
}

function measuredWindow(records: readonly RequestRecord[]): { start_ms: number; end_ms: number } | null {
  if (records.length === 0) return null;
  let start = Infinity;
  let end = -Infinity;
  for (const r of records) {
    start = Math.min(start, requestStart(r));
    end = Math.max(end, r.end_ms);
  }
  return { start_ms: round3(start), end_ms: round3(end) };
}

function perSecond(count: number, seconds: number): number {
  return seconds > 0 ? round3(count / seconds) : 0;
}

/** "10 users", "1 user", "5 req/s". */
export function levelLabel(load: { users?: number; rate?: number }): string {
  if (load.rate !== undefined) return `${load.rate} req/s`;
  const users = load.users ?? 0;
  return `${users} user${users === 1 ? '' : 's'}`;
}

export function summarizeLevel(records: readonly RequestRecord[], opts: SummarizeOptions = {}): LevelSummary {
  const measured = records.filter((r) => !r.warmup);
  const ok = measured.filter((r) => r.status === 'ok');
  const window = measuredWindow(measured);
  const seconds = window ? (window.end_ms - window.start_ms) / 1000 : 0;

  const ttft: number[] = [];
  const tpot: number[] = [];
  const itl: number[] = [];
  const e2e: number[] = [];
  const ntpot: number[] = [];
  const lag: number[] = [];
  const tokensSource = { usage: 0, counted: 0 };
  let outputTokens = 0;
  let good = 0;
  let promptTokens = 0;
  let promptCount = 0;
  for (const r of measured) if (r.scheduled_ms !== undefined) lag.push(r.sent_ms - r.scheduled_ms);
  for (const r of ok) {
    const t = requestTimings(r);
    if (t.ttft !== undefined) ttft.push(t.ttft);
    if (t.e2e !== undefined) e2e.push(t.e2e);
    if (t.tpot !== undefined) tpot.push(t.tpot);
    if (t.ntpot !== undefined) ntpot.push(t.ntpot);
    for (let k = 1; k < r.chunk_times_ms.length; k++) itl.push(r.chunk_times_ms[k] - r.chunk_times_ms[k - 1]);
    outputTokens += r.output_tokens;
    tokensSource[r.tokens_source]++;
    if (r.prompt_tokens !== undefined) {
      promptTokens += r.prompt_tokens;
      promptCount++;
    }
    if (meetsSlo(t, opts.slo)) good++;
  }

  const errorsByKind: Record<string, number> = {};
  for (const r of measured) {
    if (r.status !== 'error') continue;
    const kind = r.error_kind ?? 'client_error';
    errorsByKind[kind] = (errorsByKind[kind] ?? 0) + 1;
  }
  const errors = measured.length - ok.length;
  const requestsPerS = perSecond(ok.length, seconds);
  const mode = opts.rate !== undefined ? 'open' : 'closed';
  return {
    level: opts.level ?? 0,
    label: opts.label ?? levelLabel(opts),
    mode,
    ...(opts.users !== undefined ? { users: opts.users } : {}),
    ...(opts.rate !== undefined ? { rate: opts.rate } : {}),
    offered_rate_per_s: opts.rate ?? null,
    achieved_rate_per_s: requestsPerS,
    duration_s: round3(seconds),
    window,
    requests: measured.length,
    completed: ok.length,
    errors,
    error_rate: measured.length > 0 ? round3(errors / measured.length) : 0,
    errors_by_kind: errorsByKind,
    warmup_requests: records.length - measured.length,
    ttft_ms: summarize(ttft),
    tpot_ms: summarize(tpot),
    itl_ms: summarize(itl),
    e2e_ms: summarize(e2e),
    ntpot_ms: summarize(ntpot),
    send_lag_ms: lag.length > 0 ? summarize(lag) : null,
    requests_per_s: requestsPerS,
    output_tokens_per_s: perSecond(outputTokens, seconds),
    goodput_per_s: perSecond(good, seconds),
    slo: opts.slo ?? null,
    slo_attainment: ok.length > 0 ? round3(good / ok.length) : null,
    output_tokens: outputTokens,
    tokens_source: tokensSource,
    prompt_tokens_mean: promptCount > 0 ? round3(promptTokens / promptCount) : null,
    per_expert: perExpert(measured, seconds),
    ...(opts.client ? { client: opts.client } : {}),
  };
}

function perExpert(measured: readonly RequestRecord[], seconds: number): Record<string, ExpertSummary> {
  const groups = new Map<string, RequestRecord[]>();
  for (const r of measured) {
    if (r.expert === undefined) continue;
    let group = groups.get(r.expert);
    if (!group) groups.set(r.expert, (group = []));
    group.push(r);
  }
  const out: Record<string, ExpertSummary> = {};
  for (const [expert, group] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const ok = group.filter((r) => r.status === 'ok');
    const timings = ok.map(requestTimings);
    const tokens = ok.reduce((sum, r) => sum + r.output_tokens, 0);
    out[expert] = {
      requests: group.length,
      completed: ok.length,
      errors: group.length - ok.length,
      share: round3(group.length / measured.length),
      output_tokens: tokens,
      output_tokens_per_s: perSecond(tokens, seconds),
      ttft_ms: summarize(timings.flatMap((t) => (t.ttft === undefined ? [] : [t.ttft]))),
      e2e_ms: summarize(timings.flatMap((t) => (t.e2e === undefined ? [] : [t.e2e]))),
    };
  }
  return out;
}

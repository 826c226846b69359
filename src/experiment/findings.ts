/**
 * The paper's four findings, each checked against this run's numbers. Verdicts are computed, not
 * asserted: the report says plainly where the simulation disagrees with the paper.
 */
import type { LevelSummary, Slo } from '../harness/index.js';
import { imbalanceRatio } from './shares.js';
import type { ConfigResult, Finding } from './types.js';

const fmt = (n: number | null, digits = 0): string =>
  n === null ? '-' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Levels at which a configuration still serves its users well: SLO attainment >= 90%, no errors to speak of. */
export function servesWell(level: LevelSummary): boolean {
  return (level.slo_attainment ?? 1) >= 0.9 && level.error_rate <= 0.01;
}

/** Highest user count up to which every level served well (0 when even the first did not). */
export function wellServedRange(levels: readonly LevelSummary[]): number {
  let best = 0;
  for (const l of levels) {
    if (!servesWell(l)) break;
    best = l.users ?? l.rate ?? 0;
  }
  return best;
}

function top(levels: readonly LevelSummary[]): LevelSummary | undefined {
  return levels[levels.length - 1];
}

export function routingOverhead(configs: readonly ConfigResult[], classifyUs: number | null): Finding {
  const claim = 'The router adds minimal latency overhead.';
  const withDirect = configs.filter((c) => c.direct_levels && c.direct_levels.length > 0);
  if (withDirect.length === 0) {
    const evidence =
      classifyUs === null
        ? 'Not measured in virtual time (no HTTP path); run with --clock live to compare gateway and direct TTFT.'
        : `Virtual clock: the routing decision (featurize + nearest centroid) costs ${fmt(classifyUs, 1)} µs per prompt on this machine, `
          + 'against TTFTs of tens of milliseconds and more; the HTTP relay cost is measured with --clock live and benchmarks/gateway-overhead.ts.';
    return { id: 'overhead', claim, verdict: classifyUs === null ? 'not measured' : 'supported', evidence };
  }
  const parts: string[] = [];
  let worstShare = 0;
  for (const c of withDirect) {
    c.levels.forEach((l, i) => {
      const d = c.direct_levels?.[i];
      const routed = l.ttft_ms.p50;
      const direct = d?.ttft_ms.p50 ?? null;
      if (routed === null || direct === null) return;
      const added = routed - direct;
      const share = direct > 0 ? added / direct : 0;
      worstShare = Math.max(worstShare, share);
      parts.push(`${c.name} @${l.users ?? l.rate}: TTFT p50 ${fmt(routed, 1)} ms via gateway vs ${fmt(direct, 1)} ms direct (${added >= 0 ? '+' : ''}${fmt(added, 2)} ms)`);
    });
  }
  const verdict = worstShare <= 0.1 ? 'supported' : worstShare <= 0.25 ? 'partly supported' : 'contradicted';
  return { id: 'overhead', claim, verdict, evidence: `${parts.join('; ')}. Largest relative increase: ${fmt(worstShare * 100, 1)}%.` };
}

function configurationDominates(configs: readonly ConfigResult[]): Finding {
  const claim = 'The configuration of the expert models dominates performance.';
  const peaks = configs.map((c) => ({ name: c.name, tps: Math.max(0, ...c.levels.map((l) => l.output_tokens_per_s)) })).filter((p) => p.tps > 0);
  if (peaks.length < 2) return { id: 'configuration', claim, verdict: 'not measured', evidence: 'Needs at least two configurations with completed requests.' };
  peaks.sort((a, b) => b.tps - a.tps);
  const spread = peaks[0].tps / peaks[peaks.length - 1].tps;
  const evidence = `Peak output throughput on the same GPUs ranges from ${fmt(peaks[peaks.length - 1].tps)} tok/s (${peaks[peaks.length - 1].name}) to ${fmt(peaks[0].tps)} tok/s (${peaks[0].name}), a ${fmt(spread, 1)}x spread: ${peaks.map((p) => `${p.name} ${fmt(p.tps)}`).join(', ')}.`;
  return { id: 'configuration', claim, verdict: spread >= 2 ? 'supported' : spread >= 1.3 ? 'partly supported' : 'contradicted', evidence };
}

/** Large models: the 70B routed configurations. */
function isHighParameter(c: ConfigResult): boolean {
  return c.kind === 'router' && c.experts.some((e) => /70b/i.test(e.backend));
}

function highParameterStable(configs: readonly ConfigResult[], slo: Slo): Finding {
  const claim = 'High-parameter experts deliver stable throughput and latency under moderate concurrency.';
  const big = configs.filter(isHighParameter);
  if (big.length === 0) return { id: 'high-parameter', claim, verdict: 'not measured', evidence: 'No routed configuration with 70B experts.' };
  const parts = big.map((c) => {
    const range = wellServedRange(c.levels);
    const t = top(c.levels);
    const peak = Math.max(...c.levels.map((l) => l.output_tokens_per_s));
    return { name: c.name, range, text: `${c.name}: meets the SLO (TTFT ≤ ${slo.ttft_ms ?? '-'} ms, TPOT ≤ ${slo.tpot_ms ?? '-'} ms for ≥ 90% of requests) up to ${range} users; at ${t?.users} users TTFT p90 ${fmt(t?.ttft_ms.p90 ?? 0)} ms, TPOT p90 ${fmt(t?.tpot_ms.p90 ?? 0, 1)} ms; peak ${fmt(peak)} tok/s` };
  });
  const moderate = parts.filter((p) => p.range >= 50).length;
  const verdict = moderate === parts.length ? 'supported' : moderate > 0 ? 'partly supported' : 'contradicted';
  return { id: 'high-parameter', claim, verdict, evidence: parts.map((p) => p.text).join('; ') + '.' };
}

function smallExpertsWider(configs: readonly ConfigResult[]): Finding {
  const claim = 'Smaller expert models stay competitive over a wider range of concurrent users than tensor-parallel baselines.';
  const small = configs.filter((c) => c.kind === 'router' && !isHighParameter(c));
  const baselines = configs.filter((c) => c.kind === 'single');
  if (small.length === 0 || baselines.length === 0) {
    return { id: 'small-experts', claim, verdict: 'not measured', evidence: 'Needs a routed configuration of small experts and a single-deployment baseline.' };
  }
  const describe = (c: ConfigResult): string => `${c.name} up to ${wellServedRange(c.levels)} users (at ${top(c.levels)?.users} users: ${fmt(top(c.levels)?.output_tokens_per_s ?? 0)} tok/s, TTFT p90 ${fmt(top(c.levels)?.ttft_ms.p90 ?? 0)} ms)`;
  const bestSmall = Math.max(...small.map((c) => wellServedRange(c.levels)));
  const bestBaseline = Math.max(...baselines.map((c) => wellServedRange(c.levels)));
  const served = `Served within the SLO: ${[...small, ...baselines].map(describe).join('; ')}.`;
  if (bestSmall !== bestBaseline) {
    return { id: 'small-experts', claim, verdict: bestSmall > bestBaseline ? 'supported' : 'contradicted', evidence: served };
  }
  // Equal ranges (often: every configuration met the SLO at every level): compare at the highest load.
  const topTps = (cs: ConfigResult[]): number => Math.max(...cs.map((c) => top(c.levels)?.output_tokens_per_s ?? 0));
  const ahead = topTps(small) >= topTps(baselines);
  return {
    id: 'small-experts',
    claim,
    verdict: ahead ? 'partly supported' : 'contradicted',
    evidence: `${served} The SLO does not separate them (same range); at the highest load the small experts deliver ${ahead ? 'at least as much throughput as' : 'less throughput than'} the best baseline (${fmt(topTps(small))} vs ${fmt(topTps(baselines))} tok/s).`,
  };
}

/** How unevenly clusters load the experts, and what that costs against an even spread of the same load. */
export function imbalanceFinding(configs: readonly ConfigResult[]): Finding {
  const routed = configs.filter((c) => c.kind === 'router' && c.expert_shares.length > 1);
  const claim = 'Cluster sizes load the experts unevenly (not a claim of the paper: what routing by content costs).';
  if (routed.length === 0) return { id: 'imbalance', claim, verdict: 'not measured', evidence: 'No routed configuration with several experts.' };
  const parts = routed.map((c) => {
    const ratio = imbalanceRatio(c.expert_shares);
    const shares = c.expert_shares.map((s) => `${s.expert} ${fmt(s.share * 100, 1)}%`).join(', ');
    let cost = '';
    const t = top(c.levels);
    const b = c.balanced_levels ? top(c.balanced_levels) : undefined;
    if (t && b && b.output_tokens_per_s > 0) {
      cost = `; at ${t.users} users it delivers ${fmt(t.output_tokens_per_s)} tok/s (TTFT p90 ${fmt(t.ttft_ms.p90)} ms) against ${fmt(b.output_tokens_per_s)} tok/s (TTFT p90 ${fmt(b.ttft_ms.p90)} ms) with an even spread: ${fmt((1 - t.output_tokens_per_s / b.output_tokens_per_s) * 100, 1)}% of throughput lost to imbalance`;
    }
    return `${c.name}: busiest expert carries ${fmt(ratio, 2)}x the mean share (${shares})${cost}`;
  });
  return { id: 'imbalance', claim, verdict: 'supported', evidence: parts.join('. ') + '.' };
}

export function paperFindings(configs: readonly ConfigResult[], slo: Slo, classifyUs: number | null): Finding[] {
  return [routingOverhead(configs, classifyUs), configurationDominates(configs), highParameterStable(configs, slo), smallExpertsWider(configs), imbalanceFinding(configs)];
}

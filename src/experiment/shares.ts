/** How a routed configuration's traffic spread over its experts, from the per-level per-expert figures. */
import type { LevelSummary } from '../harness/index.js';
import type { ExpertShare } from './types.js';

export function expertShares(levels: readonly LevelSummary[], expertNames: readonly string[]): ExpertShare[] {
  const counts = new Map<string, number>(expertNames.map((n) => [n, 0]));
  for (const level of levels) {
    for (const [expert, s] of Object.entries(level.per_expert)) counts.set(expert, (counts.get(expert) ?? 0) + s.requests);
  }
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  return [...counts].map(([expert, requests]) => ({ expert, requests, share: total > 0 ? requests / total : 0 }));
}

/** Busiest expert's share over the mean share: 1 is perfectly even, N means one expert takes it all. */
export function imbalanceRatio(shares: readonly ExpertShare[]): number {
  if (shares.length === 0) return 1;
  const max = Math.max(...shares.map((s) => s.share));
  return max * shares.length;
}

/**
 * Fits an engine's step-time coefficients to the calibration rows of that engine: Nelder-Mead on the
 * log of each coefficient, minimising a robust (Cauchy) loss of each row's log-error (lower-bound
 * rows only count when the simulation falls below them), so that rows the model cannot reach do not
 * pull the coefficients away from the rows it can. Rows are never special-cased:
 * one set of coefficients per engine serves every GPU and model.
 */
import { rowPasses, simulateRow, type CalibrationRow } from './calibration.js';
import { profileCatalog, type EngineProfile } from './profiles.js';

export const FITTED_KEYS = ['prefill_efficiency', 'decode_efficiency', 'memory_efficiency', 'step_overhead_ms', 'per_seq_overhead_us', 'allreduce_latency_us'] as const;
export type FittedKey = (typeof FITTED_KEYS)[number];
export type FittedCoefficients = Pick<EngineProfile, FittedKey>;

const UPPER: Partial<Record<FittedKey, number>> = { prefill_efficiency: 1, decode_efficiency: 1, memory_efficiency: 1 };

export interface FitResult {
  engine: string;
  coefficients: FittedCoefficients;
  loss: number;
  evaluations: number;
  rows: { row: CalibrationRow; simulated: number; error: number; pass: boolean }[];
}

export interface FitOptions {
  maxEvaluations?: number;
  /** Called after each improvement, for progress output. */
  onProgress?(evaluations: number, loss: number): void;
}

function rowLoss(row: CalibrationRow, simulated: number): number {
  const e = Math.log(simulated / row.value);
  if (row.bound === 'lower' && e >= 0) return 0;
  // Cauchy loss: bounded influence, so a row the model cannot reach does not drag the others off.
  const scale = Math.log(1 + (row.tolerance ?? 0.15)) / 2;
  return Math.log(1 + (e / scale) ** 2);
}

export function fitEngine(engineId: string, allRows: CalibrationRow[], options: FitOptions = {}): FitResult {
  const rows = allRows.filter((r) => r.engine === engineId);
  const start = profileCatalog().engines[engineId];
  if (!start || rows.length === 0) throw new Error(`no calibration rows for engine '${engineId}'`);
  // Keys that no row can inform stay as they are: all-reduce without a TP>1 row, and the engine's `fixed` list.
  const keys = FITTED_KEYS.filter((k) => (k !== 'allreduce_latency_us' || rows.some((r) => r.tp > 1)) && !start.fixed?.includes(k));
  const toCoefficients = (x: number[]): FittedCoefficients => {
    const c: FittedCoefficients = { ...pickFitted(start) };
    keys.forEach((k, i) => {
      c[k] = Math.min(Math.exp(x[i]), UPPER[k] ?? Number.POSITIVE_INFINITY);
    });
    return c;
  };
  let evaluations = 0;
  const loss = (x: number[]): number => {
    evaluations++;
    const c = toCoefficients(x);
    let total = 0;
    for (const row of rows) total += rowLoss(row, simulateRow(row, c));
    return total;
  };
  const x0 = keys.map((k) => Math.log(Math.max(start[k], 1e-3)));
  const best = nelderMead(loss, x0, options.maxEvaluations ?? 300, options.onProgress);
  const coefficients = toCoefficients(best.x);
  return {
    engine: engineId,
    coefficients,
    loss: best.f,
    evaluations,
    rows: rows.map((row) => {
      const simulated = simulateRow(row, coefficients);
      const error = (simulated - row.value) / row.value;
      return { row, simulated, error, pass: rowPasses(row, error) };
    }),
  };
}

function pickFitted(e: EngineProfile): FittedCoefficients {
  return Object.fromEntries(FITTED_KEYS.map((k) => [k, e[k]])) as FittedCoefficients;
}

/** Plain Nelder-Mead (reflection, expansion, contraction, shrink). */
function nelderMead(f: (x: number[]) => number, x0: number[], maxEvaluations: number, onProgress?: (n: number, loss: number) => void): { x: number[]; f: number } {
  const n = x0.length;
  let simplex = [x0, ...x0.map((_, i) => x0.map((v, j) => (j === i ? v + 0.25 : v)))].map((x) => ({ x, f: f(x) }));
  let evals = simplex.length;
  let lastBest = Number.POSITIVE_INFINITY;
  while (evals < maxEvaluations) {
    simplex.sort((a, b) => a.f - b.f);
    if (simplex[0].f < lastBest) {
      lastBest = simplex[0].f;
      onProgress?.(evals, lastBest);
    }
    if (simplex[n].f - simplex[0].f < 1e-7) break;
    const centroid = x0.map((_, j) => simplex.slice(0, n).reduce((s, p) => s + p.x[j], 0) / n);
    const along = (t: number): number[] => centroid.map((c, j) => c + t * (simplex[n].x[j] - c));
    const reflected = along(-1);
    const fr = f(reflected);
    evals++;
    if (fr < simplex[0].f) {
      const expanded = along(-2);
      const fe = f(expanded);
      evals++;
      simplex[n] = fe < fr ? { x: expanded, f: fe } : { x: reflected, f: fr };
    } else if (fr < simplex[n - 1].f) {
      simplex[n] = { x: reflected, f: fr };
    } else {
      const contracted = along(fr < simplex[n].f ? -0.5 : 0.5);
      const fc = f(contracted);
      evals++;
      if (fc < Math.min(fr, simplex[n].f)) {
        simplex[n] = { x: contracted, f: fc };
      } else {
        const bestX = simplex[0].x;
        simplex = simplex.map((p, i) => (i === 0 ? p : { x: p.x.map((v, j) => bestX[j] + 0.5 * (v - bestX[j])), f: 0 }));
        for (let i = 1; i <= n; i++) simplex[i].f = f(simplex[i].x);
        evals += n;
      }
    }
  }
  simplex.sort((a, b) => a.f - b.f);
  return simplex[0];
}

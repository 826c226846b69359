/** Parsers for the harness's textual settings (CLI flags, experiment specs); each throws a HarnessError naming the setting. */
import type { Slo, ThinkTime } from './types.js';
import { HarnessError } from './errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "500ms", "2s", "1.5m", "1h"; a bare number is `bareUnit` (seconds unless told). */
export function parseDuration(text: string, bareUnit: 'ms' | 's' = 's'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!m) throw new HarnessError('invalid_option', `'${text}' is not a duration (examples: 500ms, 30s, 2m)`);
  return Number(m[1]) * UNIT_MS[m[2] ?? bareUnit];
}

/** A comma-separated list of positive numbers: "1,10,100". */
export function parseNumberList(text: string, what: string, integer: boolean): number[] {
  const items = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new HarnessError('invalid_option', `${what} needs at least one value`);
  return items.map((s) => {
    const n = Number(s);
    if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
      throw new HarnessError('invalid_option', `${what} must be ${integer ? 'positive integers' : 'positive numbers'}, got '${s}'`);
    }
    return n;
  });
}

/** "ttft=500ms,tpot=50ms[,e2e=10s]"; bare numbers are milliseconds. */
export function parseSlo(text: string): Slo {
  const slo: Slo = {};
  for (const part of text.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const [key, value, extra] = part.split('=');
    if (value === undefined || extra !== undefined) throw new HarnessError('invalid_option', `SLO '${part}' must look like name=value (e.g. ttft=500ms)`);
    const name = key.trim().toLowerCase();
    if (name !== 'ttft' && name !== 'tpot' && name !== 'e2e') throw new HarnessError('invalid_option', `unknown SLO '${key}': use ttft, tpot or e2e`);
    slo[`${name}_ms`] = parseDuration(value, 'ms');
  }
  if (Object.keys(slo).length === 0) throw new HarnessError('invalid_option', 'SLO needs at least one objective (e.g. ttft=500ms,tpot=50ms)');
  return slo;
}

/** "2s" (fixed), "exp:2s" (exponential with that mean), "0" (none); bare numbers are milliseconds. */
export function parseThinkTime(text: string): ThinkTime {
  const m = /^\s*(?:(fixed|exp|exponential):)?(.+)$/.exec(text);
  if (!m) throw new HarnessError('invalid_option', `'${text}' is not a think time (examples: 500ms, exp:2s)`);
  const ms = parseDuration(m[2], 'ms');
  return m[1] === 'exp' || m[1] === 'exponential' ? { kind: 'exponential', meanMs: ms } : { kind: 'fixed', ms };
}

/** A length with optional uniform spread: "512" or "512:128" (512 +/- 128 tokens). */
export interface LengthSpec {
  mean: number;
  spread: number;
}

export function parseLength(text: string, what: string): LengthSpec {
  const m = /^\s*(\d+)\s*(?::\s*(\d+))?\s*$/.exec(text);
  if (!m) throw new HarnessError('invalid_option', `${what} must look like MEAN or MEAN:SPREAD in tokens (e.g. 512:128), got '${text}'`);
  const mean = Number(m[1]);
  const spread = Number(m[2] ?? 0);
  if (mean < 1) throw new HarnessError('invalid_option', `${what} mean must be at least 1, got '${text}'`);
  if (spread >= mean) throw new HarnessError('invalid_option', `${what} spread must be smaller than the mean, got '${text}'`);
  return { mean, spread };
}

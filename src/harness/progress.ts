/** Progress of a bench run: a live bar on a terminal, a plain line every few seconds otherwise. */
import cliProgress from 'cli-progress';
import type { LevelSummary } from './metrics.js';
import type { ProgressSnapshot } from './options.js';
import { formatNumber } from './report/svg.js';

export interface ProgressReporter {
  update(p: ProgressSnapshot): void;
  levelDone(summary: LevelSummary): void;
  stop(): void;
}

const PLAIN_EVERY_S = 5;

function line(p: ProgressSnapshot): string {
  const planned = p.planned_s === null ? '' : `/${p.planned_s.toFixed(0)}s`;
  return `[level ${p.level + 1}/${p.levels} ${p.label}${p.warmup ? ', warm-up' : ''}] ${p.elapsed_s.toFixed(1)}s${planned} ` +
    `${formatNumber(p.requests_per_s)} req/s ${formatNumber(p.output_tokens_per_s)} tok/s ` +
    `completed ${p.completed} errors ${p.errors} in flight ${p.inflight}`;
}

function levelLine(s: LevelSummary): string {
  const errors = Object.entries(s.errors_by_kind).map(([k, n]) => `${k}=${n}`).join(' ');
  return `level ${s.label}: ${s.completed} completed, ${s.errors} errors${errors ? ` (${errors})` : ''}, ` +
    `${formatNumber(s.requests_per_s)} req/s, ${formatNumber(s.output_tokens_per_s)} tok/s, ` +
    `TTFT p50 ${s.ttft_ms.p50 ?? '–'} ms p99 ${s.ttft_ms.p99 ?? '–'} ms` +
    (s.client && !s.client.trusted ? `\n  warning: ${s.client.warnings.join('; ')}` : '');
}

export function createProgressReporter(stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  if (!stream.isTTY) {
    let lastPrinted = -Infinity;
    let lastLevel = -1;
    return {
      update(p) {
        if (p.level !== lastLevel) {
          lastLevel = p.level;
          lastPrinted = -Infinity;
        }
        if (p.elapsed_s - lastPrinted < PLAIN_EVERY_S) return;
        lastPrinted = p.elapsed_s;
        stream.write(line(p) + '\n');
      },
      levelDone: (s) => void stream.write(levelLine(s) + '\n'),
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: '{label} |{bar}| {elapsed_s}s{planned} | {rps} req/s | {tps} tok/s | done {completed} | errors {errors} | in flight {inflight}',
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let active = -1;
  const payload = (p: ProgressSnapshot): Record<string, unknown> => ({
    label: `level ${p.level + 1}/${p.levels} ${p.label}${p.warmup ? ' (warm-up)' : ''}`,
    elapsed_s: p.elapsed_s.toFixed(0),
    planned: p.planned_s === null ? '' : `/${p.planned_s.toFixed(0)}s`,
    rps: formatNumber(p.requests_per_s),
    tps: formatNumber(p.output_tokens_per_s),
    completed: p.completed,
    errors: p.errors,
    inflight: p.inflight,
  });
  return {
    update(p) {
      const total = Math.max(1, Math.round(p.planned_s ?? p.elapsed_s));
      if (active !== p.level) {
        if (active !== -1) bar.stop();
        active = p.level;
        bar.start(total, 0, payload(p));
      }
      bar.setTotal(total);
      bar.update(Math.min(total, Math.round(p.elapsed_s)), payload(p));
    },
    levelDone(s) {
      if (active !== -1) bar.stop();
      active = -1;
      stream.write(levelLine(s) + '\n');
    },
    stop() {
      if (active !== -1) bar.stop();
      active = -1;
    },
  };
}

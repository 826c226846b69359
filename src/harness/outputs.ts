/** A run's files: records.jsonl, summary.json (versioned), summary.csv and the HTML report. */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { once } from 'node:events';
import type { LevelSummary } from './metrics.js';
import { renderComparisonReport, type ReportSeries } from './report/render.js';
import type { BenchResult } from './options.js';
import { SUMMARY_SCHEMA_ID, SUMMARY_VERSION, benchSummarySchema, type BenchSummary } from './summary-schema.js';
import { HarnessError } from './errors.js';

export function toSummary(result: BenchResult): BenchSummary {
  return {
    schema: SUMMARY_SCHEMA_ID,
    version: SUMMARY_VERSION,
    meta: result.meta,
    levels: result.levels,
    infra: result.infra,
    warnings: result.warnings,
  };
}

const CSV_COLUMNS: Array<[string, (l: LevelSummary) => unknown]> = [
  ['level', (l) => l.level],
  ['label', (l) => l.label],
  ['mode', (l) => l.mode],
  ['users', (l) => l.users],
  ['rate', (l) => l.rate],
  ['offered_rate_per_s', (l) => l.offered_rate_per_s],
  ['achieved_rate_per_s', (l) => l.achieved_rate_per_s],
  ['duration_s', (l) => l.duration_s],
  ['requests', (l) => l.requests],
  ['completed', (l) => l.completed],
  ['errors', (l) => l.errors],
  ['error_rate', (l) => l.error_rate],
  ['requests_per_s', (l) => l.requests_per_s],
  ['output_tokens_per_s', (l) => l.output_tokens_per_s],
  ['goodput_per_s', (l) => l.goodput_per_s],
  ...(['ttft_ms', 'tpot_ms', 'itl_ms', 'e2e_ms', 'ntpot_ms'] as const).flatMap((m) =>
    (['mean', 'p50', 'p90', 'p99', 'max'] as const).map((k): [string, (l: LevelSummary) => unknown] => [`${m.replace('_ms', '')}_${k}_ms`, (l) => l[m][k]]),
  ),
  ['errors_by_kind', (l) => Object.entries(l.errors_by_kind).map(([k, n]) => `${k}=${n}`).join(' ')],
  ['client_loop_delay_p99_ms', (l) => l.client?.event_loop_delay_ms.p99],
  ['client_cpu_ms_per_request', (l) => l.client?.cpu_ms_per_request],
  ['client_trusted', (l) => l.client?.trusted],
];

function csvCell(v: unknown): string {
  if (v === undefined || v === null) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function summaryCsv(levels: readonly LevelSummary[]): string {
  const lines = [CSV_COLUMNS.map(([name]) => name).join(',')];
  for (const l of levels) lines.push(CSV_COLUMNS.map(([, get]) => csvCell(get(l))).join(','));
  return lines.join('\n') + '\n';
}

export function seriesOf(summary: BenchSummary, name = summary.meta.name): ReportSeries {
  return { name, levels: summary.levels, infra: summary.infra, warnings: summary.warnings };
}

export function runReportHtml(summary: BenchSummary): string {
  const m = summary.meta;
  return renderComparisonReport({
    title: `expert-router bench: ${m.name}`,
    series: [seriesOf(summary)],
    meta: { target: m.target, protocol: m.protocol, model: m.model, mode: m.mode, started: m.started_at, finished: m.finished_at, seed: m.seed, prompts: `${m.prompts} from ${m.prompt_source}`, settings: m.settings },
  });
}

export async function writeBenchOutputs(dir: string, result: BenchResult): Promise<void> {
  await mkdir(dir, { recursive: true });
  // Records are streamed out: a long run holds hundreds of thousands of them.
  const out = createWriteStream(join(dir, 'records.jsonl'));
  for (const r of result.records) {
    if (!out.write(JSON.stringify(r) + '\n')) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  const summary = toSummary(result);
  await writeFile(join(dir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  await writeFile(join(dir, 'summary.csv'), summaryCsv(result.levels));
  await writeFile(join(dir, 'report.html'), runReportHtml(summary));
}

/** Reads and validates a run directory's summary.json (for `report` and comparisons). */
export async function readRunSummary(dir: string): Promise<BenchSummary> {
  const file = join(dir, 'summary.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new HarnessError('input_unreadable', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} (is ${dir} a bench output directory?)`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new HarnessError('input_invalid', `${file} is not valid JSON`);
  }
  const parsed = benchSummarySchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new HarnessError('input_invalid', `${file} is not a bench summary (v${SUMMARY_VERSION}): '${issue.path.join('.')}' ${issue.message}`);
  }
  return parsed.data;
}

/** One comparison report over several run directories, each a series named after its directory. */
export async function renderRunsComparison(dirs: readonly string[], title?: string): Promise<string> {
  const summaries = await Promise.all(dirs.map((d) => readRunSummary(d)));
  const names = dirs.map((d) => basename(resolve(d)));
  return renderComparisonReport({
    title: title ?? `expert-router comparison: ${names.join(' vs ')}`,
    series: summaries.map((s, i) => seriesOf(s, names[i])),
    meta: Object.fromEntries(summaries.map((s, i) => [names[i], `${s.meta.target} (${s.meta.protocol}, ${s.meta.model}, ${s.meta.mode} loop, ${s.meta.started_at})`])),
  });
}

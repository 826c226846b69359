/**
 * The one report renderer: any number of runs (series) on the same charts, as one self-contained
 * HTML file. `bench` renders one series, `report` several runs, the experiments their configurations.
 */
import type { LevelSummary } from '../metrics.js';
import { INFRA_METRICS_OF_INTEREST, type InfraSeries } from '../scrape.js';
import type { Stats } from '../stats.js';
import { PALETTE, escapeHtml, formatNumber, lineChart, stackedBarChart, type LineSeries } from './svg.js';

export interface ReportSeries {
  name: string;
  levels: LevelSummary[];
  infra?: InfraSeries[];
  warnings?: string[];
}

export interface ReportInput {
  title: string;
  series: ReportSeries[];
  /** Extra sections (findings, notes), HTML the caller built and escaped. */
  sections?: Array<{ title: string; html: string }>;
  meta?: Record<string, unknown>;
}

const PERCENTILES = [
  { key: 'p50', dash: undefined },
  { key: 'p90', dash: '6 3' },
  { key: 'p99', dash: '2 3' },
] as const;

const MAX_INFRA_CHARTS = 8;

function loadOf(level: LevelSummary): number {
  return level.users ?? level.rate ?? 0;
}

function xLabelOf(series: readonly ReportSeries[]): string {
  const levels = series.flatMap((s) => s.levels);
  if (levels.every((l) => l.mode === 'closed')) return 'concurrent users';
  if (levels.every((l) => l.mode === 'open')) return 'offered rate (req/s)';
  return 'load (users or req/s)';
}

function seriesName(run: string, what: string, many: boolean): string {
  return many ? `${run} ${what}` : what;
}

function percentileChart(id: string, title: string, yLabel: string, xLabel: string, runs: readonly ReportSeries[], pick: (l: LevelSummary) => Stats, keys: ReadonlyArray<'p50' | 'p90' | 'p99'>): string {
  const many = runs.length > 1;
  const series: LineSeries[] = [];
  runs.forEach((run, i) => {
    for (const p of PERCENTILES.filter((q) => keys.includes(q.key))) {
      series.push({
        name: seriesName(run.name, p.key, many),
        color: PALETTE[i % PALETTE.length],
        dash: p.dash,
        points: run.levels.flatMap((l) => {
          const v = pick(l)[p.key];
          return v === null ? [] : [[loadOf(l), v] as [number, number]];
        }),
      });
    }
  });
  return lineChart({ id, title, xLabel, yLabel, series });
}

function simpleChart(id: string, title: string, yLabel: string, xLabel: string, runs: readonly ReportSeries[], lines: Array<{ what: string; dash?: string; pick: (l: LevelSummary) => number | null }>): string {
  const series: LineSeries[] = [];
  runs.forEach((run, i) => {
    for (const line of lines) {
      series.push({
        name: lines.length > 1 ? seriesName(run.name, line.what, runs.length > 1) : run.name,
        color: PALETTE[i % PALETTE.length],
        dash: line.dash,
        points: run.levels.flatMap((l) => {
          const v = line.pick(l);
          return v === null ? [] : [[loadOf(l), v] as [number, number]];
        }),
      });
    }
  });
  return lineChart({ id, title, xLabel, yLabel, series });
}

function expertCharts(runs: readonly ReportSeries[]): string {
  let out = '';
  runs.forEach((run, r) => {
    const experts = [...new Set(run.levels.flatMap((l) => Object.keys(l.per_expert)))].sort();
    if (experts.length === 0) return;
    out += stackedBarChart({
      id: `chart-experts-${r}`,
      title: `Requests per expert${runs.length > 1 ? ` (${run.name})` : ''}`,
      yLabel: 'measured requests',
      categories: run.levels.map((l) => l.label),
      stacks: experts.map((e, i) => ({ name: e, color: PALETTE[i % PALETTE.length], values: run.levels.map((l) => l.per_expert[e]?.requests ?? 0) })),
    });
  });
  return out || note('No per-expert breakdown: the target sent no x-expert-router-expert header (it is not the gateway).');
}

function infraCharts(runs: readonly ReportSeries[]): string {
  const metrics = new Map<string, Array<{ run: number; s: InfraSeries }>>();
  runs.forEach((run, r) => {
    for (const s of run.infra ?? []) {
      if (s.points.length === 0) continue;
      let list = metrics.get(s.metric);
      if (!list) metrics.set(s.metric, (list = []));
      list.push({ run: r, s });
    }
  });
  const names = [...metrics.keys()].sort((a, b) => Number(!INFRA_METRICS_OF_INTEREST.test(a)) - Number(!INFRA_METRICS_OF_INTEREST.test(b)) || a.localeCompare(b));
  if (names.length === 0) return note('No infrastructure series: run with --scrape URL to sample the targets\u2019 Prometheus metrics.');
  const markers = runs.length === 1
    ? runs[0].levels.flatMap((l) => (l.window ? [{ x: l.window.start_ms / 1000, label: `level ${l.label}` }] : []))
    : [];
  let out = '';
  names.slice(0, MAX_INFRA_CHARTS).forEach((metric, m) => {
    const entries = metrics.get(metric) ?? [];
    const targets = new Set(entries.map((e) => e.s.target)).size;
    out += lineChart({
      id: `chart-infra-${m}`,
      title: metric,
      xLabel: 'time since start of run (s)',
      yLabel: metric.length > 28 ? 'value' : metric,
      logX: false,
      markers,
      series: entries.map((e, i) => ({
        name: [runs.length > 1 ? runs[e.run].name : '', targets > 1 || runs.length === 1 ? e.s.target : ''].filter(Boolean).join(' '),
        color: PALETTE[(runs.length > 1 ? e.run : i) % PALETTE.length],
        dash: runs.length > 1 && i > 0 && entries[i - 1].run === e.run ? '6 3' : undefined,
        points: e.s.points.map(([t, v]) => [t / 1000, v] as [number, number]),
      })),
    });
  });
  if (names.length > MAX_INFRA_CHARTS) out += note(`${names.length - MAX_INFRA_CHARTS} more scraped gauge(s) are in summary.json.`);
  return out;
}

function note(text: string): string {
  return `<p class="note">${escapeHtml(text)}</p>`;
}

function fmt(v: number | null | undefined): string {
  return v === null || v === undefined ? '–' : formatNumber(v);
}

function levelTable(run: ReportSeries): string {
  const head = ['level', 'completed', 'errors', 'req/s', 'out tok/s', 'goodput/s', 'TTFT p50', 'TTFT p99', 'TPOT p50', 'TPOT p99', 'ITL p99', 'E2E p50', 'E2E p99', 'errors by kind', 'client'];
  const rows = run.levels.map((l) => {
    const kinds = Object.entries(l.errors_by_kind).map(([k, n]) => `${k}: ${n}`).join(', ');
    const client = l.client ? (l.client.trusted ? `ok (loop p99 ${fmt(l.client.event_loop_delay_ms.p99)} ms)` : `⚠ ${l.client.warnings.join('; ')}`) : '';
    const cells = [l.label, l.completed, l.errors, l.requests_per_s, l.output_tokens_per_s, l.goodput_per_s, l.ttft_ms.p50, l.ttft_ms.p99, l.tpot_ms.p50, l.tpot_ms.p99, l.itl_ms.p99, l.e2e_ms.p50, l.e2e_ms.p99];
    return `<tr>${cells.map((c) => `<td>${typeof c === 'string' ? escapeHtml(c) : fmt(c)}</td>`).join('')}<td>${escapeHtml(kinds || '–')}</td><td${l.client && !l.client.trusted ? ' class="warn"' : ''}>${escapeHtml(client)}</td></tr>`;
  });
  return `<h3>${escapeHtml(run.name)}</h3><p class="note">Latencies in ms; throughput over T, from the first send to the last completion of the measured requests.</p>` +
    `<div class="scroll"><table><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
}

function metaTable(meta: Record<string, unknown>): string {
  const rows = Object.entries(meta).map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(typeof v === 'string' ? v : JSON.stringify(v))}</td></tr>`);
  return rows.length > 0 ? `<table class="meta">${rows.join('')}</table>` : '';
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1360px;padding:0 16px;color:#222}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd;padding-bottom:4px}h3{font-size:15px}
.charts{display:flex;flex-wrap:wrap;gap:16px}
figure.chart{margin:0;border:1px solid #e4e4e4;border-radius:6px;padding:8px;background:#fafafa}
figcaption{font-weight:600;margin-bottom:4px}
svg text{font:11px system-ui,sans-serif;fill:#444}svg .axis-label{font-size:12px;fill:#222}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px;max-width:640px}.legend span{display:inline-flex;align-items:center;gap:4px}
table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ddd;padding:3px 6px;text-align:right}th{background:#f2f2f2}
table.meta td,table.meta th{text-align:left}.scroll{overflow-x:auto}
.note{color:#666;font-size:12px}.warn{color:#a40000}ul.warnings li{color:#a40000}
`;

export function renderComparisonReport(input: ReportInput): string {
  const runs = input.series;
  const x = xLabelOf(runs);
  const openLoop = runs.every((r) => r.levels.every((l) => l.mode === 'open'));
  const warnings = runs.flatMap((r) => (r.warnings ?? []).map((w) => (runs.length > 1 ? `${r.name}: ${w}` : w)));
  const charts = [
    simpleChart('chart-output-throughput', 'Output throughput', 'output tokens/s', x, runs, [{ what: 'tok/s', pick: (l) => l.output_tokens_per_s }]),
    simpleChart('chart-request-throughput', openLoop ? 'Achieved vs offered rate, and goodput' : 'Request throughput and goodput', 'requests/s', x, runs, [
      { what: openLoop ? 'achieved req/s' : 'req/s', pick: (l) => l.requests_per_s },
      { what: 'goodput', dash: '6 3', pick: (l) => l.goodput_per_s },
      ...(openLoop ? [{ what: 'offered', dash: '2 3', pick: (l: LevelSummary) => l.offered_rate_per_s }] : []),
    ]),
    percentileChart('chart-ttft', 'Time to first token (p50, p90, p99)', 'TTFT (ms)', x, runs, (l) => l.ttft_ms, ['p50', 'p90', 'p99']),
    percentileChart('chart-tpot', 'Time per output token (p50, p90, p99)', 'TPOT (ms)', x, runs, (l) => l.tpot_ms, ['p50', 'p90', 'p99']),
    percentileChart('chart-itl', 'Inter-token latency (p50, p99)', 'ITL (ms)', x, runs, (l) => l.itl_ms, ['p50', 'p99']),
    percentileChart('chart-e2e', 'End-to-end latency (p50, p90, p99)', 'E2E (ms)', x, runs, (l) => l.e2e_ms, ['p50', 'p90', 'p99']),
    simpleChart('chart-error-rate', 'Error rate', 'failed requests (%)', x, runs, [{ what: 'errors', pick: (l) => 100 * l.error_rate }]),
  ].join('');
  const extra = (input.sections ?? []).map((s) => `<h2>${escapeHtml(s.title)}</h2>${s.html}`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(input.title)}</title><style>${STYLE}</style></head>
<body><h1>${escapeHtml(input.title)}</h1>
${metaTable({ ...(input.meta ?? {}), runs: runs.map((r) => r.name).join(', ') })}
${warnings.length > 0 ? `<h2>Warnings</h2><ul class="warnings">${warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul>` : ''}
<h2>User view and throughput</h2><div class="charts">${charts || note('No level has data to chart.')}</div>
<h2>Per-expert load</h2><div class="charts">${expertCharts(runs)}</div>
<h2>Infrastructure over time</h2><div class="charts">${infraCharts(runs)}</div>
${extra}
<h2>Levels</h2>${runs.map(levelTable).join('')}
<p class="note">Generated ${escapeHtml(new Date().toISOString())} by expert-router. Metric definitions: docs/architecture.md in the expert-router package; summary.json schema: src/harness/summary-schema.ts.</p>
</body></html>
`;
}

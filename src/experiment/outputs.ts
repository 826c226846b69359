/**
 * An experiment's files: summary.json (configs with the harness's per-level figures, findings, and
 * everything needed to repeat the run), summary.csv and one report.html comparing the configurations.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem, platform, release, arch } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { stringify as toYaml } from 'yaml';
import { escapeHtml, renderComparisonReport, summaryCsv, type ReportSeries } from '../harness/index.js';
import type { ExperimentSpec } from './spec.js';
import type { ExperimentResult } from './types.js';

export const EXPERIMENT_SCHEMA_ID = 'expert-router/experiment-summary';
export const EXPERIMENT_SCHEMA_VERSION = 1;

const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export function environment(): Record<string, string | number> {
  const cpu = cpus();
  return {
    'expert-router': PACKAGE_VERSION,
    node: process.version,
    platform: `${platform()} ${release()} ${arch()}`,
    cpu: `${cpu.length} x ${cpu[0]?.model ?? 'unknown'}`,
    memory_gib: Math.round(totalmem() / 2 ** 30),
  };
}

export function experimentSummary(spec: ExperimentSpec, result: ExperimentResult): Record<string, unknown> {
  return {
    schema: EXPERIMENT_SCHEMA_ID,
    version: EXPERIMENT_SCHEMA_VERSION,
    name: result.name,
    clock: result.clock,
    seed: spec.seed,
    started_at: result.started_at,
    finished_at: result.finished_at,
    environment: environment(),
    spec,
    classify_us_p50: result.classify_us_p50,
    configs: result.configs,
    findings: result.findings,
  };
}

function experimentCsv(result: ExperimentResult): string {
  const rows: string[] = [];
  for (const c of result.configs) {
    const variants: Array<[string, typeof c.levels | undefined]> = [['routed', c.levels], ['direct', c.direct_levels], ['balanced', c.balanced_levels]];
    for (const [variant, levels] of variants) {
      if (!levels || levels.length === 0) continue;
      const [header, ...lines] = summaryCsv(levels).trimEnd().split('\n');
      if (rows.length === 0) rows.push(`config,variant,gpus,${header}`);
      for (const line of lines) rows.push(`${c.name},${variant},${c.gpus ?? ''},${line}`);
    }
  }
  return rows.join('\n') + '\n';
}

function table(head: string[], rows: string[][]): string {
  const th = head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('');
  return `<div class="scroll"><table class="meta"><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table></div>`;
}

export function experimentReportHtml(spec: ExperimentSpec, result: ExperimentResult): string {
  const series: ReportSeries[] = [];
  for (const c of result.configs) {
    series.push({ name: c.name, levels: c.levels, infra: c.infra, warnings: c.warnings });
    if (c.direct_levels) series.push({ name: `${c.name} (direct, no gateway)`, levels: c.direct_levels });
  }
  const findings = table(
    ['finding', 'verdict', 'this run'],
    result.findings.map((f) => [f.claim, f.verdict, f.evidence]),
  );
  const configs = table(
    ['configuration', 'kind', 'GPUs', 'experts', 'classifier'],
    result.configs.map((c) => [
      c.name,
      c.kind,
      String(c.gpus ?? '?'),
      c.experts.map((e) => `${e.name}: ${e.backend} x${e.replicas}${e.match.length ? ` (serves ${e.match.join(', ')})` : ''}`).join('; '),
      c.classifier ?? 'none (single deployment)',
    ]),
  );
  const balanced = result.configs.filter((c) => c.balanced_levels);
  const imbalance = balanced.length === 0
    ? ''
    : table(
        ['configuration', 'users', 'routed tok/s', 'even spread tok/s', 'routed TTFT p90 (ms)', 'even TTFT p90 (ms)'],
        balanced.flatMap((c) =>
          c.levels.map((l, i) => {
            const b = c.balanced_levels?.[i];
            return [c.name, String(l.users ?? l.rate ?? ''), l.output_tokens_per_s.toFixed(0), b ? b.output_tokens_per_s.toFixed(0) : '-', l.ttft_ms.p90?.toFixed(0) ?? '-', b?.ttft_ms.p90?.toFixed(0) ?? '-'];
          }),
        ),
      );
  const sections = [
    { title: 'Findings', html: findings },
    { title: 'Configurations', html: configs },
    ...(imbalance ? [{ title: 'Cluster imbalance: routed vs the same load spread evenly (virtual clock)', html: imbalance }] : []),
    { title: 'Experiment spec (repeat with: expert-router experiment SPEC.yaml)', html: `<pre>${escapeHtml(toYaml(spec))}</pre>` },
  ];
  return renderComparisonReport({
    title: `expert-router experiment: ${result.name} (${result.clock} clock)`,
    series,
    sections,
    meta: {
      ...environment(),
      clock: result.clock,
      seed: spec.seed,
      started: result.started_at,
      finished: result.finished_at,
      'classification p50 (µs)': result.classify_us_p50 === null ? '-' : result.classify_us_p50.toFixed(1),
    },
  });
}

export async function writeExperimentOutputs(dir: string, spec: ExperimentSpec, result: ExperimentResult): Promise<{ report: string; summary: string }> {
  await mkdir(dir, { recursive: true });
  const summary = join(dir, 'summary.json');
  const report = join(dir, 'report.html');
  await writeFile(summary, JSON.stringify(experimentSummary(spec, result), null, 2) + '\n');
  await writeFile(join(dir, 'summary.csv'), experimentCsv(result));
  await writeFile(report, experimentReportHtml(spec, result));
  return { report, summary };
}

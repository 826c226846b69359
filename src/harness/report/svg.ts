/**
 * Charts drawn as inline SVG when the report is generated: no script, no fonts or files to fetch,
 * so the report works offline and shows the same in every browser.
 */

export interface LineSeries {
  name: string;
  color: string;
  /** SVG stroke-dasharray, to tell percentiles apart within one colour. */
  dash?: string;
  points: Array<[number, number]>;
}

export interface LineChartSpec {
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
  /** Log-scale x; by default when every x is positive and they span a factor of 20 or more. */
  logX?: boolean;
  /** Vertical markers, e.g. level boundaries on a time axis. */
  markers?: Array<{ x: number; label: string }>;
}

export interface StackedBarSpec {
  id: string;
  title: string;
  yLabel: string;
  categories: string[];
  stacks: Array<{ name: string; color: string; values: number[] }>;
}

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];

const W = 640;
const H = 300;
const M = { left: 64, right: 16, top: 12, bottom: 44 };

/** Loops, not Math.min(...xs): a long scraped series would overflow the argument stack. */
function minOf(values: readonly number[]): number {
  let m = Infinity;
  for (const v of values) if (v < m) m = v;
  return m;
}

function maxOf(values: readonly number[]): number {
  let m = -Infinity;
  for (const v of values) if (v > m) m = v;
  return m;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function formatNumber(v: number): string {
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toPrecision(3)}k`;
  if (a >= 100) return String(Math.round(v));
  return String(+v.toPrecision(3));
}

function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (hi <= lo) hi = lo + 1;
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(+t.toPrecision(12));
  return ticks;
}

/** Ticks from 0 whose last tick is at or above `hi`, so every value fits under the top of the axis. */
function valueTicks(hi: number): number[] {
  const ticks = niceTicks(0, hi > 0 ? hi : 1);
  const step = ticks.length > 1 ? ticks[1] - ticks[0] : hi;
  while (ticks[ticks.length - 1] < hi) ticks.push(+(ticks[ticks.length - 1] + step).toPrecision(12));
  return ticks;
}

function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const f of [1, 2, 5]) {
      const t = f * 10 ** e;
      if (t >= lo * 0.999 && t <= hi * 1.001) ticks.push(t);
    }
  }
  return ticks;
}

function frame(id: string, title: string, body: string, legend: string): string {
  return `<figure class="chart" id="${escapeHtml(id)}"><figcaption>${escapeHtml(title)}</figcaption>` +
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(title)}">${body}</svg>` +
    `<div class="legend">${legend}</div></figure>`;
}

function legendItem(name: string, color: string, dash?: string): string {
  const line = `<svg width="28" height="10" aria-hidden="true"><line x1="0" y1="5" x2="28" y2="5" stroke="${color}" stroke-width="2.5"${dash ? ` stroke-dasharray="${dash}"` : ''}/></svg>`;
  return `<span>${line}${escapeHtml(name)}</span>`;
}

function axes(xTicks: Array<{ at: number; label: string }>, yTicks: Array<{ at: number; label: string }>, xLabel: string, yLabel: string): string {
  const x0 = M.left;
  const y0 = H - M.bottom;
  let out = `<rect x="${x0}" y="${M.top}" width="${W - M.left - M.right}" height="${y0 - M.top}" fill="#fff" stroke="#ccc"/>`;
  for (const t of yTicks) {
    out += `<line x1="${x0}" y1="${t.at.toFixed(1)}" x2="${W - M.right}" y2="${t.at.toFixed(1)}" stroke="#eee"/>`;
    out += `<text x="${x0 - 6}" y="${(t.at + 4).toFixed(1)}" text-anchor="end">${escapeHtml(t.label)}</text>`;
  }
  for (const t of xTicks) {
    out += `<line x1="${t.at.toFixed(1)}" y1="${y0}" x2="${t.at.toFixed(1)}" y2="${y0 + 4}" stroke="#999"/>`;
    out += `<text x="${t.at.toFixed(1)}" y="${y0 + 17}" text-anchor="middle">${escapeHtml(t.label)}</text>`;
  }
  out += `<text x="${(x0 + W - M.right) / 2}" y="${H - 6}" text-anchor="middle" class="axis-label">${escapeHtml(xLabel)}</text>`;
  out += `<text transform="translate(14 ${(M.top + y0) / 2}) rotate(-90)" text-anchor="middle" class="axis-label">${escapeHtml(yLabel)}</text>`;
  return out;
}

/** A line chart with points; an empty string when no series has a point (the caller notes it). */
export function lineChart(spec: LineChartSpec): string {
  const series = spec.series.filter((s) => s.points.length > 0);
  if (series.length === 0) return '';
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  let xMin = minOf(xs);
  let xMax = maxOf(xs);
  const logX = spec.logX ?? (xMin > 0 && xMax / xMin >= 20);
  if (xMin === xMax) {
    xMin = logX ? xMin / 2 : xMin - 1;
    xMax = logX ? xMax * 2 : xMax + 1;
  }
  const yTicksRaw = valueTicks(Math.max(maxOf(ys), 0) * 1.05);
  const yMax = yTicksRaw[yTicksRaw.length - 1];
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const px = (x: number): number =>
    M.left + (logX ? (Math.log(x) - Math.log(xMin)) / (Math.log(xMax) - Math.log(xMin)) : (x - xMin) / (xMax - xMin)) * plotW;
  const py = (y: number): number => M.top + plotH - (Math.max(0, y) / yMax) * plotH;
  const xTicks = (logX ? logTicks(xMin, xMax) : niceTicks(xMin, xMax)).filter((t) => t >= xMin && t <= xMax);
  let body = axes(
    xTicks.map((t) => ({ at: px(t), label: formatNumber(t) })),
    yTicksRaw.map((t) => ({ at: py(t), label: formatNumber(t) })),
    spec.xLabel,
    spec.yLabel,
  );
  for (const m of spec.markers ?? []) {
    if (m.x < xMin || m.x > xMax) continue;
    body += `<line class="marker" x1="${px(m.x).toFixed(1)}" y1="${M.top}" x2="${px(m.x).toFixed(1)}" y2="${H - M.bottom}" stroke="#bbb" stroke-dasharray="2 3"><title>${escapeHtml(m.label)}</title></line>`;
  }
  const dots = series.every((s) => s.points.length <= 40);
  for (const s of series) {
    const pts = [...s.points].sort((a, b) => a[0] - b[0]);
    const d = pts.map((p, i) => `${i === 0 ? 'M' : 'L'}${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join('');
    body += `<path class="series" d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`;
    if (dots) {
      for (const p of pts) {
        body += `<circle cx="${px(p[0]).toFixed(1)}" cy="${py(p[1]).toFixed(1)}" r="3" fill="${s.color}"><title>${escapeHtml(`${s.name}: ${formatNumber(p[0])} → ${formatNumber(p[1])}`)}</title></circle>`;
      }
    }
  }
  return frame(spec.id, spec.title, body, series.map((s) => legendItem(s.name, s.color, s.dash)).join(''));
}

/** Stacked bars (e.g. requests per expert per level); empty string when there is nothing to stack. */
export function stackedBarChart(spec: StackedBarSpec): string {
  const n = spec.categories.length;
  const totals = spec.categories.map((_, i) => spec.stacks.reduce((sum, s) => sum + (s.values[i] ?? 0), 0));
  if (n === 0 || spec.stacks.length === 0 || maxOf(totals) <= 0) return '';
  const yTicks = valueTicks(maxOf(totals) * 1.05);
  const yMax = yTicks[yTicks.length - 1];
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const slot = plotW / n;
  const barW = Math.max(2, Math.min(48, slot * 0.7));
  const py = (y: number): number => M.top + plotH - (y / yMax) * plotH;
  const labelEvery = Math.ceil(n / 12);
  let body = axes(
    spec.categories.flatMap((c, i) => (i % labelEvery === 0 ? [{ at: M.left + slot * (i + 0.5), label: c }] : [])),
    yTicks.map((t) => ({ at: py(t), label: formatNumber(t) })),
    '',
    spec.yLabel,
  );
  for (let i = 0; i < n; i++) {
    let base = 0;
    const x = M.left + slot * (i + 0.5) - barW / 2;
    for (const s of spec.stacks) {
      const v = s.values[i] ?? 0;
      if (v <= 0) continue;
      body += `<rect class="bar" x="${x.toFixed(1)}" y="${py(base + v).toFixed(1)}" width="${barW.toFixed(1)}" height="${(py(base) - py(base + v)).toFixed(1)}" fill="${s.color}"><title>${escapeHtml(`${spec.categories[i]} · ${s.name}: ${formatNumber(v)}`)}</title></rect>`;
      base += v;
    }
  }
  return frame(spec.id, spec.title, body, spec.stacks.map((s) => legendItem(s.name, s.color)).join(''));
}

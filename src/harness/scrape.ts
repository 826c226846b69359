/**
 * Samples targets' Prometheus endpoints during a run (the infrastructure view: KV-cache use,
 * running and waiting requests, GPU utilisation). Gauges only, summed over label sets per name.
 */
import { Agent, request } from 'undici';
import { round3 } from './stats.js';

export interface InfraSeries {
  /** The scraped URL. */
  target: string;
  metric: string;
  /** [run-clock ms, value] pairs. */
  points: Array<[number, number]>;
}

/** Gauges worth charting first, when a target exposes them (vLLM, Triton, DCGM names). */
export const INFRA_METRICS_OF_INTEREST =
  /num_requests_running|num_requests_waiting|cache_usage|gpu_util|GPU_UTIL|utilization|queue|inflight|in_flight|outstanding/;

const MAX_METRICS_PER_TARGET = 50;

/** Parses the Prometheus text format into gauge (and untyped) values summed over their label sets. */
export function parsePrometheusText(text: string): Map<string, number> {
  const types = new Map<string, string>();
  const values = new Map<string, number>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^#\s*TYPE\s+(\S+)\s+(\S+)/.exec(line);
      if (m) types.set(m[1], m[2]);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const name = m[1];
    const type = typeOf(types, name);
    if (type !== 'gauge' && type !== 'untyped') continue;
    if (name.startsWith('process_') || name.startsWith('nodejs_')) continue;
    const value = Number(m[3]);
    if (!Number.isFinite(value)) continue;
    values.set(name, (values.get(name) ?? 0) + value);
  }
  return values;
}

/** A sample's family type; histogram and summary samples carry a suffix after the family's name. */
function typeOf(types: ReadonlyMap<string, string>, name: string): string {
  const direct = types.get(name);
  if (direct) return direct;
  const family = /^(.*)_(bucket|sum|count|total|created)$/.exec(name)?.[1];
  return (family && types.get(family)) ?? 'untyped';
}

export class Scraper {
  private readonly agent = new Agent({ headersTimeout: 2000, bodyTimeout: 2000, connect: { timeout: 2000 } });
  private readonly series = new Map<string, InfraSeries>();
  private readonly failures = new Map<string, { count: number; last: string }>();
  private readonly busy = new Set<string>();
  private readonly pending = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly urls: readonly string[],
    private readonly clock: () => number,
    private readonly intervalMs = 1000,
  ) {}

  start(): void {
    if (this.urls.length === 0) return;
    this.sampleAll();
    this.timer = setInterval(() => this.sampleAll(), this.intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await Promise.allSettled([...this.pending]);
    await this.agent.close();
  }

  result(): InfraSeries[] {
    return [...this.series.values()];
  }

  /** One line per target that failed at least once. */
  warnings(): string[] {
    return [...this.failures].map(([url, f]) => `scrape of ${url} failed ${f.count} time(s), last: ${f.last}`);
  }

  private sampleAll(): void {
    for (const url of this.urls) {
      if (this.busy.has(url)) continue; // a slow target: skip rather than pile up scrapes
      this.busy.add(url);
      const p = this.sample(url).finally(() => {
        this.busy.delete(url);
        this.pending.delete(p);
      });
      this.pending.add(p);
    }
  }

  private async sample(url: string): Promise<void> {
    const at = round3(this.clock());
    try {
      const res = await request(url, { dispatcher: this.agent });
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
      for (const [metric, value] of parsePrometheusText(text)) this.add(url, metric, at, value);
    } catch (err) {
      const f = this.failures.get(url) ?? { count: 0, last: '' };
      f.count++;
      f.last = (err as Error).message;
      this.failures.set(url, f);
    }
  }

  private add(url: string, metric: string, at: number, value: number): void {
    const key = `${url}\u0000${metric}`;
    let s = this.series.get(key);
    if (!s) {
      const count = [...this.series.values()].filter((x) => x.target === url).length;
      if (count >= MAX_METRICS_PER_TARGET) return;
      this.series.set(key, (s = { target: url, metric, points: [] }));
    }
    s.points.push([at, value]);
  }
}

import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchSummarySchema, renderRunsComparison, runBench, writeBenchOutputs, type PromptSet } from '../../src/harness/index.js';
import { startMisbehavingServer, type MisbehavingServer } from './misbehaving-server.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) throw new Error(`${CHROMIUM} is required when CI is set (apt-get install chromium)`);
if (!haveChromium) console.warn(`skipping the report-in-Chromium tests: ${CHROMIUM} is absent (apt-get install chromium)`);

const prompts: PromptSet = { source: 'test', prompts: [{ text: 'a' }, { text: 'b' }] };

let target: MisbehavingServer;
let metrics: Server;
let metricsUrl: string;
let dir: string;

/** A Prometheus endpoint whose gauges move with each scrape. */
async function startMetrics(): Promise<void> {
  let n = 0;
  metrics = createServer((_req, res) => {
    n++;
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(`# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running ${n % 3}\n# TYPE vllm:gpu_cache_usage_perc gauge\nvllm:gpu_cache_usage_perc ${(n % 5) / 10}\n`);
  });
  await new Promise<void>((resolve) => metrics.listen(0, '127.0.0.1', resolve));
  metricsUrl = `http://127.0.0.1:${(metrics.address() as AddressInfo).port}/metrics`;
}

beforeAll(async () => {
  target = await startMisbehavingServer();
  await startMetrics();
  dir = await mkdtemp(join(tmpdir(), 'bench-report-'));
  for (const [name, mode] of [['run-a', 'ok'], ['run-b', 'flaky']]) {
    const result = await runBench({
      target: `${target.url}/m/${mode}`,
      model: 'm',
      name,
      load: { mode: 'closed', users: [1, 2, 4] },
      durationMs: 250,
      prompts,
      scrape: [metricsUrl],
      scrapeIntervalMs: 50,
      slo: { ttft_ms: 100 },
    });
    await writeBenchOutputs(join(dir, name), result);
  }
  const open = await runBench({
    target: `${target.url}/m/ok`,
    model: 'm',
    name: 'run-open',
    load: { mode: 'open', rates: [20, 40], arrival: 'poisson' },
    durationMs: 250,
    prompts,
  });
  await writeBenchOutputs(join(dir, 'run-open'), open);
  await writeFile(join(dir, 'compare.html'), await renderRunsComparison([join(dir, 'run-a'), join(dir, 'run-b')]));
});

afterAll(async () => {
  await target.close();
  await new Promise<void>((resolve) => metrics.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

describe('run outputs', () => {
  it('writes a valid versioned summary.json, summary.csv and one record per request', async () => {
    const summary = benchSummarySchema.parse(JSON.parse(await readFile(join(dir, 'run-a', 'summary.json'), 'utf8')));
    expect(summary.levels.map((l) => l.users)).toEqual([1, 2, 4]);
    expect(summary.infra.map((s) => s.metric).sort()).toEqual(['vllm:gpu_cache_usage_perc', 'vllm:num_requests_running']);
    expect(summary.infra[0].points.length).toBeGreaterThan(3);
    const records = (await readFile(join(dir, 'run-a', 'records.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { status: string });
    expect(records.length).toBe(summary.levels.reduce((n, l) => n + l.requests + l.warmup_requests, 0));
    const csv = (await readFile(join(dir, 'run-a', 'summary.csv'), 'utf8')).trim().split('\n');
    expect(csv).toHaveLength(4);
    expect(csv[0]).toMatch(/^level,label,mode,users,rate,/);
    const html = await readFile(join(dir, 'run-a', 'report.html'), 'utf8');
    expect(html).not.toMatch(/<script|src="http|href="http/);
  });

  it('the comparison holds both runs and the failures of the flaky one', async () => {
    const b = benchSummarySchema.parse(JSON.parse(await readFile(join(dir, 'run-b', 'summary.json'), 'utf8')));
    expect(b.levels.every((l) => (l.errors_by_kind.http_500 ?? 0) > 0)).toBe(true);
    const html = await readFile(join(dir, 'compare.html'), 'utf8');
    expect(html).toContain('run-a');
    expect(html).toContain('run-b');
  });
});

describe.skipIf(!haveChromium)('the report in headless Chromium', () => {
  let browser: BrowserContext;
  let profile: string;
  beforeAll(async () => {
    // A fresh profile each run (playwright passes it to Chromium as --user-data-dir).
    profile = await mkdtemp(join(tmpdir(), 'chromium-profile-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await rm(profile, { recursive: true, force: true });
  });

  async function open(file: string): Promise<{ problems: string[]; charts: Array<{ id: string; marks: number; width: number }> }> {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) problems.push(`network request: ${r.url()}`);
    });
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    const charts = await page.$$eval('figure.chart', (figures) =>
      figures.map((f) => ({
        id: f.id,
        marks: f.querySelectorAll('svg path.series, svg rect.bar').length,
        width: f.querySelector('svg')?.getBoundingClientRect().width ?? 0,
      })),
    );
    await page.close();
    return { problems, charts };
  }

  it('draws every chart of a run with no console error and no network request', async () => {
    const { problems, charts } = await open(join(dir, 'run-a', 'report.html'));
    expect(problems).toEqual([]);
    const ids = charts.map((c) => c.id);
    for (const id of ['chart-output-throughput', 'chart-request-throughput', 'chart-ttft', 'chart-tpot', 'chart-itl', 'chart-e2e', 'chart-error-rate', 'chart-experts-0', 'chart-infra-0', 'chart-infra-1']) {
      expect(ids).toContain(id);
    }
    for (const c of charts) {
      expect(c.marks, c.id).toBeGreaterThan(0);
      expect(c.width, c.id).toBeGreaterThan(100);
    }
  });

  it('draws an open-loop run, with the offered rate beside the achieved one', async () => {
    const { problems, charts } = await open(join(dir, 'run-open', 'report.html'));
    expect(problems).toEqual([]);
    expect(charts.find((c) => c.id === 'chart-request-throughput')?.marks).toBe(3); // achieved, goodput, offered
    for (const c of charts) expect(c.marks, c.id).toBeGreaterThan(0);
  });

  it('draws the comparison of two runs on the same charts', async () => {
    const { problems, charts } = await open(join(dir, 'compare.html'));
    expect(problems).toEqual([]);
    const ttft = charts.find((c) => c.id === 'chart-ttft');
    expect(ttft?.marks).toBe(6); // two runs x three percentiles
    for (const c of charts) expect(c.marks, c.id).toBeGreaterThan(0);
  });
});

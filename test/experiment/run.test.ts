import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExperimentSpec, runExperiment, writeExperimentOutputs, type ExperimentSpec } from '../../src/experiment/index.js';

/** Two small simulated experts (Llama 3.2 1B on A10G) behind the router, and a single-GPU baseline. */
function smallSpec(load: Record<string, unknown>): ExperimentSpec {
  return parseExperimentSpec({
    name: 'small',
    seed: 5,
    load: { max_tokens: 48, ignore_eos: true, ...load },
    configs: [
      {
        name: 'router-2x1b',
        kind: 'router',
        gpus: 2,
        experts: [
          { name: 'a', match: ['code', 'math', 'creative'], profile: 'a10g:llama-3.2-1b:bf16:tp1' },
          { name: 'b', match: ['medicine', 'law', 'general'], profile: 'a10g:llama-3.2-1b:bf16:tp1' },
        ],
      },
      { name: 'single-1b', kind: 'single', gpus: 1, profile: 'a10g:llama-3.2-1b:bf16:tp1' },
    ],
  });
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'experiment-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('experiments end to end', () => {
  it('runs in virtual time and writes summary.json, summary.csv and the report', async () => {
    const spec = smallSpec({ users: [1, 8], duration_s: 20, warmup_s: 2 });
    const result = await runExperiment(spec, { clock: 'virtual' });
    const files = await writeExperimentOutputs(join(dir, 'virtual'), spec, result);

    const summary = JSON.parse(await readFile(files.summary, 'utf8')) as {
      clock: string;
      seed: number;
      spec: unknown;
      environment: Record<string, unknown>;
      configs: Array<{ name: string; gpus: number; levels: Array<Record<string, unknown>>; balanced_levels?: unknown[]; expert_shares: Array<{ share: number }> }>;
      findings: Array<{ id: string }>;
    };
    expect(summary.clock).toBe('virtual');
    expect(summary.seed).toBe(5);
    expect(summary.spec).toMatchObject({ name: 'small' });
    expect(summary.environment).toHaveProperty('node');
    expect(summary.configs.map((c) => [c.name, c.gpus])).toEqual([['router-2x1b', 2], ['single-1b', 1]]);
    for (const config of summary.configs) {
      expect(config.levels.map((l) => l.users)).toEqual([1, 8]);
      for (const level of config.levels) {
        for (const key of ['ttft_ms', 'tpot_ms', 'itl_ms', 'e2e_ms']) expect(level[key]).toMatchObject({ mean: expect.any(Number), p50: expect.any(Number), p99: expect.any(Number) });
        expect(level.completed).toBeGreaterThan(0);
        expect(level.errors).toBe(0);
        expect(level.output_tokens_per_s).toBeGreaterThan(0);
      }
      // ignore_eos: every request generates exactly max_tokens.
      expect(config.levels[1].output_tokens).toBe((config.levels[1].completed as number) * 48);
    }
    const router = summary.configs[0];
    expect(router.balanced_levels).toHaveLength(2);
    expect(router.expert_shares.reduce((a, s) => a + s.share, 0)).toBeCloseTo(1, 6);
    // One user saturates nothing: more users must mean more throughput on the same hardware.
    expect(router.levels[1].output_tokens_per_s as number).toBeGreaterThan(3 * (router.levels[0].output_tokens_per_s as number));
    expect(summary.findings.map((f) => f.id)).toContain('imbalance');

    const csv = await readFile(join(dir, 'virtual', 'summary.csv'), 'utf8');
    expect(csv.split('\n')[0]).toMatch(/^config,variant,gpus,level,/);
    expect(csv).toContain('router-2x1b,balanced,2,');
    const html = await readFile(files.report, 'utf8');
    expect(html).toContain('router-2x1b');
    expect(html).toContain('Findings');
    expect(html).not.toMatch(/<script[^>]+src=|https?:\/\/(?!www\.w3\.org)/);
  });

  it('is reproducible: the same seed gives the same figures', async () => {
    const spec = smallSpec({ users: [4], duration_s: 10, warmup_s: 1 });
    const a = await runExperiment(spec, { clock: 'virtual' });
    const b = await runExperiment(spec, { clock: 'virtual' });
    expect(b.configs.map((c) => c.levels)).toEqual(a.configs.map((c) => c.levels));
  });

  it('runs live through the gateway and direct, and agrees with virtual time on throughput within 10%', async () => {
    const spec = smallSpec({ users: [8], duration_s: 6, warmup_s: 1.5 });
    spec.configs = spec.configs.slice(0, 1);
    const live = await runExperiment(spec, { clock: 'live' });
    const virtual = await runExperiment(spec, { clock: 'virtual' });
    const l = live.configs[0];
    expect(l.direct_levels).toHaveLength(1);
    expect(l.levels[0].errors).toBe(0);
    expect(l.direct_levels?.[0].errors).toBe(0);
    // The gateway's headers attribute every request to the expert that served it.
    expect(Object.keys(l.levels[0].per_expert).sort()).toEqual(['a', 'b']);
    const liveTps = l.levels[0].output_tokens_per_s;
    const virtualTps = virtual.configs[0].levels[0].output_tokens_per_s;
    expect(Math.abs(liveTps - virtualTps) / virtualTps).toBeLessThan(0.1);
  }, 60_000);
});

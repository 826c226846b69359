import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadExperimentSpec, loadPreset, parseExperimentSpec, presetNames, SpecError } from '../../src/experiment/index.js';
import { planExperiment } from '../../src/experiment/plan.js';
import { readDefaultCorpus } from '../../src/classifier/index.js';

const minimal = {
  name: 't',
  load: { users: [1, 2] },
  configs: [{ name: 'single', kind: 'single', profile: 'h100-80gb:llama-3-8b:bf16:tp1' }],
};

function errorOf(value: unknown): string {
  try {
    parseExperimentSpec(value);
  } catch (err) {
    expect(err).toBeInstanceOf(SpecError);
    return (err as Error).message;
  }
  throw new Error('expected the spec to be refused');
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spec-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('experiment spec validation', () => {
  it('fills defaults in a minimal spec', () => {
    const spec = parseExperimentSpec(minimal);
    expect(spec.seed).toBe(1);
    expect(spec.load).toMatchObject({ duration_s: 60, warmup_s: 10, max_tokens: 256, ignore_eos: false });
    expect(spec.configs[0]).toMatchObject({ replicas: 1, protocol: 'openai' });
  });

  it('names every bad key with its path', () => {
    const message = errorOf({
      name: 't',
      load: { users: [0], durations: 5 },
      configs: [
        { name: 'a', kind: 'router', experts: { count: 2 } },
        { name: 'a', kind: 'single', profile: 'h100' },
        { name: 'b', kind: 'cluster', profile: 'h100-80gb:llama-3-8b:bf16:tp1' },
      ],
    });
    expect(message).toContain('load.users[0]');
    expect(message).toContain('load.durations: unknown key');
    expect(message).toContain('configs[0].experts: give exactly one of profile (simulated) or endpoints (real servers)');
    expect(message).toContain('configs[1].profile: expected GPU:MODEL:FORMAT:tpN');
    expect(message).toContain('configs[2].kind');
  });

  it('refuses duplicate configuration names', () => {
    const config = minimal.configs[0];
    expect(errorOf({ ...minimal, configs: [config, config] })).toContain("configs[1].name: duplicate config name 'single'");
  });

  it('refuses a GPU count that does not match the experts', () => {
    const spec = parseExperimentSpec({ ...minimal, configs: [{ name: 'x', kind: 'single', gpus: 8, profile: 'h100-80gb:llama-3-8b:bf16:tp2', replicas: 2 }] });
    expect(() => planExperiment(spec, readDefaultCorpus)).toThrow(/configs\[0\]\.gpus: the configuration states 8 GPUs but its experts use 4/);
  });

  it('refuses a profile the simulator does not know, naming the key', () => {
    const spec = parseExperimentSpec({ ...minimal, configs: [{ name: 'x', kind: 'single', profile: 'h100-80gb:llama-9-8b:bf16:tp1' }] });
    expect(() => planExperiment(spec, readDefaultCorpus)).toThrow(/configs\[0\]\.profile: .*llama-9-8b/);
  });

  it('refuses a default expert that is not one of the experts', () => {
    const spec = parseExperimentSpec({
      ...minimal,
      configs: [{ name: 'r', kind: 'router', default_expert: 'nope', experts: [{ name: 'a', match: ['code'], profile: 'h100-80gb:llama-3-8b:bf16:tp1' }] }],
    });
    expect(() => planExperiment(spec, readDefaultCorpus)).toThrow(/default_expert: 'nope' is not one of the experts/);
  });

  it('reports unreadable files and bad YAML with the file name', async () => {
    expect(() => loadExperimentSpec(join(dir, 'missing.yaml'))).toThrow(/cannot read experiment spec .*missing\.yaml: ENOENT/);
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'name: [unclosed\n');
    expect(() => loadExperimentSpec(bad)).toThrow(/bad\.yaml: not valid YAML/);
  });

  it('ships the paper preset: five configurations on 8 GPUs each, 1 to 1,000 users', () => {
    expect(presetNames()).toEqual(expect.arrayContaining(['paper', 'demo']));
    const spec = loadPreset('paper');
    expect(spec.load.users).toEqual([1, 10, 50, 100, 250, 500, 750, 1000]);
    const plans = planExperiment(spec, readDefaultCorpus);
    expect(plans.map((p) => p.gpus)).toEqual([8, 8, 8, 8, 8]);
    expect(plans.map((p) => p.experts.length)).toEqual([8, 8, 4, 1, 1]);
    // Unsupervised classifiers with k equal to the number of experts, cluster i served by expert i.
    expect(plans[0].classifier?.k).toBe(8);
    expect(plans[2].classifier?.k).toBe(4);
    expect(plans[2].experts.map((e) => e.match)).toEqual([[0], [1], [2], [3]]);
    expect(() => loadPreset('nope')).toThrow(/unknown preset 'nope' \(presets: .*paper/);
  });
});

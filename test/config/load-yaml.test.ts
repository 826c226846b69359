import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ExpertRouterError } from '../../src/common/errors.js';
import { ConfigError, loadGatewayConfig, loadYaml } from '../../src/config/load.js';
import { loadExperimentSpec, SpecError } from '../../src/experiment/index.js';
import { loadCalibrationTable, SimError } from '../../src/sim/index.js';
import { loadSimConfig } from '../../src/sim/config-file.js';

const dir = mkdtempSync(join(tmpdir(), 'load-yaml-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function failure(fn: () => unknown): ExpertRouterError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ExpertRouterError);
    return err as ExpertRouterError;
  }
  throw new Error('expected the file to be refused');
}

const schema = z.strictObject({
  name: z.string().min(1),
  levels: z.array(z.number().int().positive()).min(1),
  mode: z.enum(['closed', 'open']),
  target: z.url().optional(),
});

describe('loadYaml', () => {
  it('returns the validated value', () => {
    expect(loadYaml(schema, file('ok.yaml', 'name: a\nlevels: [1, 2]\nmode: open\n'))).toEqual({ name: 'a', levels: [1, 2], mode: 'open' });
  });

  it('names the file, the key path and the problem in plain words, one line per problem', () => {
    const path = file('bad-values.yaml', 'name: ""\nlevels: [1, -2, x]\nmode: sometimes\ntarget: nowhere\ncolour: red\n');
    const err = failure(() => loadYaml(schema, path));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.code).toBe('config_invalid');
    expect(err.message.split('\n')).toEqual([
      `${path}: name: must not be empty`,
      `${path}: levels[1]: must be greater than 0, got the number -2`,
      `${path}: levels[2]: expected a number, got the string 'x'`,
      `${path}: mode: must be one of "closed", "open", got the string 'sometimes'`,
      `${path}: target: not a valid URL: the string 'nowhere'`,
      `${path}: colour: unknown key`,
    ]);
  });

  it('says a missing key is missing, never a raw zod message', () => {
    const err = failure(() => loadYaml(schema, file('missing-keys.yaml', 'name: a\n')));
    expect(err.message).toMatch(/levels: missing \(expected a list\)/);
    expect(err.message).toMatch(/mode: missing \(expected "closed" or "open"\)/);
    expect(err.message).not.toMatch(/Invalid input|received undefined/);
  });

  it('reports bad YAML with its line and an unreadable file with the reason', () => {
    const bad = failure(() => loadYaml(schema, file('syntax.yaml', 'name: a\nlevels: [1,\n')));
    expect(bad.code).toBe('config_syntax');
    expect(bad.message).toMatch(/syntax\.yaml: not valid YAML: line \d+, column \d+: /);
    const missing = failure(() => loadYaml(schema, pathToFileURL(join(dir, 'absent.yaml')), { what: 'spec' }));
    expect(missing.code).toBe('config_unreadable');
    expect(missing.message).toMatch(/^cannot read spec .*absent\.yaml: ENOENT \(no such file\)$/);
  });

  it('is how the gateway config, the simulator config, the experiment spec and the calibration table are read', () => {
    const gateway = failure(() => loadGatewayConfig(file('gateway.yaml', 'experts: [{ name: a, protocol: grpc, model: m, endpoints: [http://127.0.0.1:1] }]\n')));
    expect(gateway).toBeInstanceOf(ConfigError);
    expect(gateway.message).toMatch(/gateway\.yaml: experts\[0\]\.protocol: must be one of "openai", "triton", got the string 'grpc'/);

    const sim = failure(() => loadSimConfig(file('sim.yaml', 'servers: [{ profile: h100-80gb:llama-3-8b:bf16:tp1, faults: { errorRate: 1 } }]\n')));
    expect(sim).toBeInstanceOf(SimError);
    expect(sim.code).toBe('bad_config');
    expect(sim.message).toMatch(/sim\.yaml: servers\[0\]\.faults\.errorRate: unknown key/);
    expect(loadSimConfig(file('sim-ok.yaml', 'servers: [{ profile: h100-80gb:llama-3-8b:bf16:tp1, faults: { error_rate: 0.5, stall_ms: 10 } }]\n'))[0].faults)
      .toEqual({ errorRate: 0.5, stallMs: 10 });

    const spec = failure(() => loadExperimentSpec(file('spec.yaml', 'name: s\nload: { users: [1] }\n')));
    expect(spec).toBeInstanceOf(SpecError);
    expect(spec.message).toMatch(/spec\.yaml: configs: missing \(expected a list\)/);

    const table = failure(() => loadCalibrationTable(pathToFileURL(file('calibration.yaml', 'rows:\n  - { source: s, gpu: a10g, model: m, format: bf16, tp: 1, engine: vllm, metric: ttft_ms, value: 1, workload: { kind: closed, client: nobody } }\n'))));
    expect(table).toBeInstanceOf(SimError);
    expect(table.message).toMatch(/calibration\.yaml: rows\[0\]\.workload\.client: no client 'nobody' in clients/);
  });
});

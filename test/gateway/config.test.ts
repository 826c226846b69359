import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadGatewayConfig, parseGatewayConfig } from '../../src/config/index.js';
import { startGateway } from '../../src/gateway/index.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { testClassifier } from './keyword-classifier.js';

const expert = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ name: 'a', protocol: 'openai', model: 'm', endpoints: ['http://127.0.0.1:9001'], ...extra });
const dir = mkdtempSync(join(tmpdir(), 'gateway-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('gateway config', () => {
  it('loads the YAML of the issue and fills in the defaults', () => {
    const file = join(dir, 'gateway.yaml');
    writeFileSync(file, [
      'listen: { host: 127.0.0.1, port: 8080 }',
      'experts:',
      '  - name: code',
      '    protocol: openai',
      '    model: llama-3-8b-code',
      '    endpoints: [http://127.0.0.1:9001, http://127.0.0.1:9002]',
      '    match: [code]',
      '    max_concurrency: 256',
      '  - name: general',
      '    protocol: triton',
      '    model: ensemble',
      '    endpoints: [http://127.0.0.1:8000]',
      'default_expert: general',
    ].join('\n'));
    const config = loadGatewayConfig(file);
    expect(config.listen).toEqual({ host: '127.0.0.1', port: 8080, allow_unauthenticated: false });
    expect(config.experts[0]).toMatchObject({ name: 'code', max_concurrency: 256, timeout_ms: 60_000, match: ['code'] });
    expect(config.experts[1]).toMatchObject({ protocol: 'triton', chat_template: 'llama3', default_max_tokens: 256, match: [] });
    expect(config.classify.fields).toEqual(['system', 'first_user']);
    expect(config.limits).toMatchObject({ body_bytes: 1024 * 1024, max_queue: 1024 });
    expect(config.health).toEqual({ interval_ms: 2000, timeout_ms: 1000 });
  });

  it('names the bad key in every error', () => {
    expect(errorOf(() => parseGatewayConfig({ experts: [expert(), expert({ name: 'b', endpoints: ['http://127.0.0.1:1', 'not a url'] })] })))
      .toMatch(/experts\[1\]\.endpoints\[1\]: invalid URL/);
    expect(errorOf(() => parseGatewayConfig({ experts: [expert({ protocol: 'grpc' })] }))).toMatch(/experts\[0\]\.protocol: /);
    expect(errorOf(() => parseGatewayConfig({ experts: [expert({ max_concurency: 3 })] }))).toMatch(/experts\[0\]\.max_concurency: unknown key/);
    expect(errorOf(() => parseGatewayConfig({ experts: [expert(), expert()] }))).toMatch(/experts\[1\]\.name: duplicate expert name 'a'/);
    expect(errorOf(() => parseGatewayConfig({ experts: [expert()], default_expert: 'zzz' }))).toMatch(/default_expert: no expert is named 'zzz'/);
    expect(errorOf(() => parseGatewayConfig({ experts: [] }))).toMatch(/experts: at least one expert is needed/);
    expect(errorOf(() => parseGatewayConfig({ experts: [expert()], listen: { port: 'x' } }))).toMatch(/listen\.port: /);
    expect(errorOf(() => parseGatewayConfig({ experts: [expert()], classify: { fields: ['everything'] } }))).toMatch(/classify\.fields\[0\]: /);
  });

  it('reports unreadable files and bad YAML with the file name', () => {
    expect(errorOf(() => loadGatewayConfig(join(dir, 'missing.yaml')))).toMatch(/cannot read config .*missing\.yaml/);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'experts: [\n');
    expect(errorOf(() => loadGatewayConfig(bad))).toMatch(/bad\.yaml: not valid YAML/);
  });

  it('refuses at start a match that names no cluster of the classifier', async () => {
    const config = parseGatewayConfig({ listen: { port: 0 }, experts: [expert({ match: ['code', 'poetry'] })] });
    await expect(startGateway(config, { classifier: testClassifier(), logger: silentLogger })).rejects.toThrow(/experts\[0\]\.match\[1\]: no cluster is labelled 'poetry'/);
    const byId = parseGatewayConfig({ listen: { port: 0 }, experts: [expert({ match: [7] })] });
    await expect(startGateway(byId, { classifier: testClassifier(), logger: silentLogger })).rejects.toThrow(/experts\[0\]\.match\[0\]: cluster 7 does not exist/);
  });
});

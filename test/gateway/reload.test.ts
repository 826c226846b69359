/**
 * Config reload over loopback: under load no request is lost, a stream in progress finishes on the
 * old pool while new requests use the new config, a bad config is refused with its error and the
 * old one keeps serving; POST /admin/reload (admin key) and SIGHUP on `expert-router serve`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadGatewayConfig } from '../../src/config/index.js';
import { startGateway, type RunningGateway } from '../../src/gateway/index.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { startTestOpenAIStub, type TestOpenAIStub } from '../helpers/openai-stub.js';
import { testClassifier } from './keyword-classifier.js';
import { chat } from './setup.js';

const dir = mkdtempSync(join(tmpdir(), 'gateway-reload-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ADMIN = 'sk-admin-reload-0123456789abcdef';
const auth = { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` };

/** A config whose single expert `general` is served by `stubUrl`. */
function yaml(stubUrl: string, extra = ''): string {
  return [
    'listen: { host: 127.0.0.1, port: 0 }',
    'experts:',
    `  - { name: general, protocol: openai, model: m, endpoints: ['${stubUrl}'] }`,
    'health: { interval_ms: 200, timeout_ms: 500 }',
    'auth:',
    `  keys: [{ name: ops, key: ${ADMIN}, admin: true }]`,
    extra,
  ].join('\n');
}

let gw: RunningGateway | undefined;
const stubs: TestOpenAIStub[] = [];
afterEach(async () => {
  await gw?.close();
  gw = undefined;
  await Promise.all(stubs.splice(0).map((s) => s.close()));
});

async function start(file: string): Promise<RunningGateway> {
  gw = await startGateway(loadGatewayConfig(file), { classifier: testClassifier(), logger: silentLogger, loadConfig: () => loadGatewayConfig(file) });
  await gw.checkHealth();
  return gw;
}

async function ask(url: string, stream: boolean): Promise<{ status: number; text: string }> {
  const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: auth, body: JSON.stringify(chat('hello', { stream })) });
  return { status: res.status, text: await res.text() };
}

describe('config reload', () => {
  it('loses no request under load across reloads, and new requests use the new config', async () => {
    const a = await startTestOpenAIStub('alpha', { tokens: 5, itlMs: 2 });
    const b = await startTestOpenAIStub('beta', { tokens: 5, itlMs: 2 });
    stubs.push(a, b);
    const file = join(dir, 'load.yaml');
    writeFileSync(file, yaml(a.url));
    const g = await start(file);
    let stop = false;
    const results: { status: number; text: string; stream: boolean }[] = [];
    const users = Array.from({ length: 8 }, async (_, i) => {
      while (!stop) {
        const stream = i % 2 === 0;
        results.push({ ...(await ask(g.url, stream)), stream });
      }
    });
    for (const next of [b, a, b]) {
      await new Promise((resolve) => setTimeout(resolve, 150));
      writeFileSync(file, yaml(next.url));
      await g.reload();
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
    stop = true;
    await Promise.all(users);
    expect(results.length).toBeGreaterThan(20);
    const bad = results.filter((r) => r.status !== 200 || (r.stream ? !r.text.includes('data: [DONE]') || r.text.includes('event: error') : !r.text.includes('"choices"')));
    expect(bad).toEqual([]);
    expect(results.some((r) => r.text.includes('alpha'))).toBe(true);
    expect(results.some((r) => r.text.includes('beta'))).toBe(true);
    // The last config is beta's.
    expect((await ask(g.url, false)).text).toContain('beta');
  });

  it('lets a stream in progress finish on the old pool while new requests go to the new replica', async () => {
    const a = await startTestOpenAIStub('alpha', { tokens: 30, itlMs: 20 });
    const b = await startTestOpenAIStub('beta');
    stubs.push(a, b);
    const file = join(dir, 'inflight.yaml');
    writeFileSync(file, yaml(a.url));
    const g = await start(file);
    const slow = ask(g.url, true);
    await expect.poll(() => a.requests.filter((r) => r.method === 'POST').length).toBe(1);
    writeFileSync(file, yaml(b.url));
    const res = await fetch(`${g.url}/admin/reload`, { method: 'POST', headers: auth });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ reloaded: true, experts: ['general'] });
    expect((await ask(g.url, false)).text).toContain('beta');
    const old = await slow;
    expect(old.text).toContain('alpha');
    expect(old.text).toContain('data: [DONE]');
    expect(a.aborted).toBe(0);
  });

  it('refuses a bad config with its error and keeps serving the old one', async () => {
    const a = await startTestOpenAIStub('alpha');
    stubs.push(a);
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, yaml(a.url));
    const g = await start(file);
    const cases: [string, RegExp][] = [
      ['experts: [ {', /not valid YAML/],
      [yaml(a.url, 'limits: { max_queu: 3 }'), /limits\.max_queu: unknown key/],
      [yaml(a.url).replace("model: m,", "model: m, match: [nothing],"), /no cluster is labelled 'nothing'/],
      [yaml(a.url).replace('port: 0', 'port: 1'), /listen: the address cannot change on reload/],
      [yaml(a.url).replace(`key: ${ADMIN}`, "key: '${ER_TEST_NOT_SET}'"), /environment variable ER_TEST_NOT_SET is not set/],
    ];
    for (const [text, message] of cases) {
      writeFileSync(file, text);
      await expect(g.reload()).rejects.toThrow(ConfigError);
      const res = await fetch(`${g.url}/admin/reload`, { method: 'POST', headers: auth });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('invalid_config');
      expect(body.error.message).toMatch(message);
      const still = await ask(g.url, false);
      expect(still.status).toBe(200);
      expect(still.text).toContain('alpha');
    }
  });
});

describe('serve: SIGHUP', () => {
  it('reloads the config file; a bad file is refused and logged, the running config stays', async () => {
    const a = await startTestOpenAIStub('alpha');
    const b = await startTestOpenAIStub('beta');
    stubs.push(a, b);
    const file = join(dir, 'hup.yaml');
    writeFileSync(file, yaml(a.url));
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--config', file], { env: { ...process.env, EXPERT_ROUTER_LOG: 'info' } });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      const url = await new Promise<string>((resolve) => {
        let stdout = '';
        child.stdout.on('data', (c: Buffer) => {
          stdout += c.toString();
          const m = /listening on (http:\S+)/.exec(stdout);
          if (m) resolve(m[1]);
        });
      });
      await expect.poll(async () => (await ask(url, false)).text, { timeout: 5_000 }).toContain('alpha');
      writeFileSync(file, 'experts: [');
      child.kill('SIGHUP');
      await expect.poll(() => stderr, { timeout: 5_000 }).toContain('config reload refused');
      expect((await ask(url, false)).text).toContain('alpha');
      writeFileSync(file, yaml(b.url));
      child.kill('SIGHUP');
      await expect.poll(() => stderr, { timeout: 5_000 }).toContain('config reloaded');
      expect((await ask(url, false)).text).toContain('beta');
    } finally {
      child.kill('SIGTERM');
      expect(await exit).toBe(0);
    }
  });
});

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestOpenAIStub } from '../helpers/openai-stub.js';

const dir = mkdtempSync(join(tmpdir(), 'serve-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `expert-router serve ...`; `until` ends it (SIGTERM) once stdout matches. */
function serve(args: string[], until?: RegExp, onMatch?: (stdout: string) => Promise<void>, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', ...args], { env: { ...process.env, EXPERT_ROUTER_LOG: 'silent', ...env } });
  let stdout = '';
  let stderr = '';
  let matched = false;
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
    if (until && !matched && until.test(stdout)) {
      matched = true;
      void (onMatch?.(stdout) ?? Promise.resolve()).finally(() => child.kill('SIGTERM'));
    }
  });
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('expert-router serve', () => {
  it('fails with a clear message naming the bad key, without a stack trace', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'experts:\n  - { name: a, protocol: openai, model: m, endpoints: [ftp://x] }\n');
    const run = await serve(['--config', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: .*experts\[0\]\.endpoints\[0\]: invalid URL/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('serves the config with the port given on the command line', async () => {
    const stub = await startTestOpenAIStub('general');
    try {
      const file = join(dir, 'good.yaml');
      writeFileSync(file, `listen: { host: 127.0.0.1, port: 1 }\nexperts:\n  - { name: general, protocol: openai, model: m, endpoints: ['${stub.url}'] }\n`);
      let status = 0;
      const run = await serve(['--config', file, '--port', '0'], /listening on (http:\S+)/, async (stdout) => {
        const url = /listening on (http:\S+)/.exec(stdout)![1];
        status = (await fetch(`${url}/healthz`)).status;
      });
      expect(run.stdout).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+/);
      expect(status).toBe(200);
      expect(run.code).toBe(0);
    } finally {
      await stub.close();
    }
  });

  // A self-signed certificate for 127.0.0.1, made for this test only (test/fixtures/tls).
  const tlsFixture = (file: string) => new URL(`../fixtures/tls/${file}`, import.meta.url).pathname;

  it('reaches an HTTPS expert whose certificate the process trusts, and refuses one it does not', async () => {
    const stub = await startTestOpenAIStub('secure', { tokens: 4 }, 0, { key: readFileSync(tlsFixture('localhost-key.pem'), 'utf8'), cert: readFileSync(tlsFixture('localhost-cert.pem'), 'utf8') });
    try {
      const file = join(dir, 'https.yaml');
      writeFileSync(file, `listen: { host: 127.0.0.1, port: 0 }\nexperts:\n  - { name: secure, protocol: openai, model: m, endpoints: ['${stub.url}'] }\n`);
      const ask = async (stdout: string) => {
        const url = /listening on (http:\S+)/.exec(stdout)![1];
        const res = await fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'secure', messages: [{ role: 'user', content: 'hi' }], stream: true }),
        });
        return { status: res.status, text: await res.text() };
      };
      let trusted = { status: 0, text: '' };
      await serve(['--config', file], /listening on/, async (stdout) => void (trusted = await ask(stdout)), { NODE_EXTRA_CA_CERTS: tlsFixture('localhost-cert.pem') });
      expect(trusted.status).toBe(200);
      expect(trusted.text).toContain('"content":"secure "');
      expect(trusted.text).toContain('data: [DONE]');

      let untrusted = { status: 0, text: '' };
      await serve(['--config', file], /listening on/, async (stdout) => void (untrusted = await ask(stdout)), { NODE_EXTRA_CA_CERTS: '' });
      expect(untrusted.status).toBe(502);
      // The certificate problem goes to the gateway's log; the client gets a message without it.
      expect(JSON.parse(untrusted.text)).toMatchObject({ error: { code: 'upstream_unreachable', message: "expert 'secure' could not be reached" } });
    } finally {
      await stub.close();
    }
  });
});

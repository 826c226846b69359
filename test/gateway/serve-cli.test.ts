import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
function serve(args: string[], until?: RegExp, onMatch?: (stdout: string) => Promise<void>): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', ...args], { env: { ...process.env, EXPERT_ROUTER_LOG: 'silent' } });
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
});

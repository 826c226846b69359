import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMisbehavingServer, type MisbehavingServer } from './misbehaving-server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(...args: string[]): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

let server: MisbehavingServer;
let dir: string;
beforeAll(async () => {
  server = await startMisbehavingServer();
  dir = await mkdtemp(join(tmpdir(), 'bench-cli-'));
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('expert-router bench and report', () => {
  it('runs a sweep, prints plain progress off a terminal, and writes its files; report compares runs', async () => {
    const out = join(dir, 'run');
    const run = await cli('bench', '--target', `${server.url}/m/flaky`, '--model', 'm', '--users', '1,2', '--requests', '4', '--input-tokens', '20', '--out', out);
    expect(run.stderr).toMatch(/level 1 user: 2 completed, 2 errors \(http_500=2\)/);
    expect(run.stdout).toMatch(/8 measured requests, 4 failed; wrote/);
    expect(run.code).toBe(0);
    for (const f of ['summary.json', 'summary.csv', 'records.jsonl', 'report.html']) expect(existsSync(join(out, f))).toBe(true);
    const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')) as { levels: Array<{ users: number }> };
    expect(summary.levels.map((l) => l.users)).toEqual([1, 2]);

    const html = join(dir, 'compare.html');
    const report = await cli('report', out, out, '--out', html);
    expect(report.code).toBe(0);
    expect(await readFile(html, 'utf8')).toContain('<svg');
  });

  it('bad flags and inputs get a clear message and a non-zero exit, no stack trace', async () => {
    const target = `${server.url}/m/ok`;
    const cases: Array<[string[], RegExp, number]> = [
      [['bench', '--target', target, '--users', '0'], /--users must be positive integers, got '0'/, 1],
      [['bench', '--target', target, '--users', '1', '--rate', '2'], /--users \(closed loop\) and --rate \(open loop\) exclude each other/, 2],
      [['bench', '--target', 'localhost:1'], /must be http:\/\/ or https:\/\//, 2],
      [['bench', '--target', target, '--slo', 'fast=1'], /unknown SLO 'fast'/, 1],
      [['bench', '--target', target, '--duration', 'long'], /'long' is not a duration/, 1],
      [['bench', '--target', target, '--dataset', join(dir, 'missing.jsonl')], /cannot read dataset .*missing\.jsonl: ENOENT/, 1],
      [['bench'], /required option '--target <url>'/, 1],
      [['report', join(dir, 'nothing-here'), '--out', join(dir, 'x.html')], /cannot read .*summary\.json: ENOENT/, 1],
    ];
    const outcomes = await Promise.all(cases.map(([args]) => cli(...args)));
    outcomes.forEach((o, i) => {
      const [args, message, code] = cases[i];
      expect(o.stderr, args.join(' ')).toMatch(message);
      expect(o.stderr).not.toMatch(/\n\s+at /);
      expect(o.code, args.join(' ')).toBe(code);
    });
  });
});

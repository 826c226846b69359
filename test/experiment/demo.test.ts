import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts the demo as a user would; `interruptOn` sends SIGINT once stdout shows that text. */
function demo(args: string[], interruptOn?: string, timeoutMs = 90_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'demo', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the demo did not end within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (interruptOn && !interrupted && stdout.includes(interruptOn)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function portsIn(text: string): number[] {
  return [...new Set([...text.matchAll(/http:\/\/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1])))];
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'demo-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('expert-router demo', () => {
  it('runs to the end in its short mode, writes the report, and leaves nothing listening', async () => {
    const out = join(dir, 'short');
    const run = await demo(['--short', '--out', out]);
    expect(run.stderr).not.toMatch(/Error|at .*\.ts:\d+/);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('3. Where prompts go');
    for (const expert of ['code', 'math', 'knowledge', 'general']) expect(run.stdout).toMatch(new RegExp(`-> ${expert}\\s`));
    expect(run.stdout).toMatch(/users\s+req\/s\s+tok\/s/);
    expect(run.stdout).toContain('expert-router serve --config');
    expect(existsSync(join(out, 'report.html'))).toBe(true);
    expect(existsSync(join(out, 'summary.json'))).toBe(true);
    // The process exited by itself (no handle left open) and every port it announced is closed.
    const ports = portsIn(run.stdout);
    expect(ports.length).toBe(5);
    for (const port of ports) expect(await refused(port)).toBe(true);
  }, 100_000);

  it('stops everything it started on Ctrl-C', async () => {
    const run = await demo(['--out', join(dir, 'interrupted')], '4. Live sweep', 30_000);
    expect(run.code).toBe(130);
    expect(run.stderr).toContain('interrupted');
    const ports = portsIn(run.stdout);
    expect(ports.length).toBe(5);
    for (const port of ports) expect(await refused(port)).toBe(true);
  }, 40_000);
});

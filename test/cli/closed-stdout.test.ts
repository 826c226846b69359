import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Runs the command, closes its stdout after the first chunk (as `| head` does), returns how it ended. */
function runAndCloseStdout(args: string[]): Promise<{ code: number | null; signal: string | null; stderr: string; got: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let got = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.setEncoding('utf8').once('data', (chunk: string) => {
      got = chunk;
      child.stdout.destroy();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr, got }));
  });
}

describe('a closed stdout', () => {
  it('ends `sim --list | head` quietly: exit 0, nothing on stderr', async () => {
    const { code, signal, stderr, got } = await runAndCloseStdout(['sim', '--list']);
    expect(got).toMatch(/a100-40gb:llama-3-8b:bf16:tp1/);
    expect(stderr).toBe('');
    expect({ code, signal }).toEqual({ code: 0, signal: null });
  }, 60_000);
});

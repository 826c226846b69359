/**
 * Graceful shutdown of `expert-router serve` on SIGTERM, over loopback: /readyz answers 503 at
 * once and new requests are refused, a stream in progress completes inside shutdown.drain_s, one
 * that would outlast it is ended with an SSE error event; the process exits 0 and logs each step.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestOpenAIStub } from '../helpers/openai-stub.js';
import { chat } from './setup.js';

const dir = mkdtempSync(join(tmpdir(), 'gateway-shutdown-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Served {
  child: ChildProcessWithoutNullStreams;
  url: string;
  stderr: () => string;
  exit: Promise<number | null>;
}

/** Starts `expert-router serve` on a config and resolves once it listens. */
async function serve(yaml: string): Promise<Served> {
  const file = join(dir, `gateway-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, yaml);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--config', file], { env: { ...process.env, EXPERT_ROUTER_LOG: 'info' } });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      const m = /listening on (http:\S+)/.exec(stdout);
      if (m) resolve(m[1]);
    });
    void exit.then((code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
  });
  return { child, url, stderr: () => stderr, exit };
}

/** Opens a stream and resolves once its first bytes came; `rest` is the remaining text. */
async function openStream(url: string): Promise<{ first: string; rest: Promise<string> }> {
  const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(chat('hello', { stream: true })) });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const first = decoder.decode((await reader.read()).value);
  const rest = (async () => {
    let text = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return text;
      text += decoder.decode(value, { stream: true });
    }
  })();
  return { first, rest };
}

const config = (stubUrl: string, drainS: number): string =>
  `listen: { host: 127.0.0.1, port: 0 }\nexperts:\n  - { name: general, protocol: openai, model: m, endpoints: ['${stubUrl}'] }\nshutdown: { drain_s: ${drainS} }\n`;

describe('serve: SIGTERM', () => {
  it('flips /readyz to 503 at once, refuses new requests, lets the stream finish inside the drain window and exits 0', async () => {
    const stub = await startTestOpenAIStub('general', { tokens: 20, itlMs: 40 });
    try {
      const gw = await serve(config(stub.url, 10));
      const stream = await openStream(gw.url);
      expect(stream.first).toContain('data: ');
      gw.child.kill('SIGTERM');
      await expect.poll(async () => (await fetch(`${gw.url}/readyz`)).status, { timeout: 5_000 }).toBe(503);
      const ready = (await (await fetch(`${gw.url}/readyz`)).json()) as { ready: boolean; error: { code: string } };
      expect(ready).toMatchObject({ ready: false, error: { code: 'shutting_down' } });
      const refused = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(chat('hello')) });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('connection')).toBe('close');
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('shutting_down');
      const rest = await stream.rest;
      expect(rest).toContain('data: [DONE]');
      expect(rest).not.toContain('event: error');
      expect(await gw.exit).toBe(0);
      expect(gw.stderr()).toContain('shutting down: draining');
      expect(gw.stderr()).toContain('gateway stopped');
      expect(gw.stderr()).not.toContain('drain deadline reached');
    } finally {
      await stub.close();
    }
  });

  it('ends a stream that outlasts shutdown.drain_s with an SSE error event, then exits 0', async () => {
    const stub = await startTestOpenAIStub('general', { tokens: 400, itlMs: 25 });
    try {
      const gw = await serve(config(stub.url, 0.3));
      const stream = await openStream(gw.url);
      gw.child.kill('SIGTERM');
      const rest = await stream.rest;
      expect(rest).toMatch(/event: error\ndata: \{"error":\{"message":"the gateway is shutting down[^"]*","type":"server_error","code":"shutting_down"/);
      expect(rest).not.toContain('[DONE]');
      expect(await gw.exit).toBe(0);
      expect(gw.stderr()).toContain('drain deadline reached');
      expect(stub.aborted).toBe(1);
    } finally {
      await stub.close();
    }
  });

  it('ends the drain at once on a second signal', async () => {
    const stub = await startTestOpenAIStub('general', { tokens: 400, itlMs: 25 });
    try {
      const gw = await serve(config(stub.url, 60));
      const stream = await openStream(gw.url);
      gw.child.kill('SIGTERM');
      await expect.poll(async () => (await fetch(`${gw.url}/readyz`)).status, { timeout: 5_000 }).toBe(503);
      gw.child.kill('SIGINT');
      expect(await stream.rest).toContain('"code":"shutting_down"');
      expect(await gw.exit).toBe(0);
    } finally {
      await stub.close();
    }
  });
});

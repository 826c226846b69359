import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBench, type BenchOptions, type PromptSet } from '../../src/harness/index.js';
import { startMisbehavingServer, type MisbehavingServer } from './misbehaving-server.js';

const prompts: PromptSet = { source: 'test', prompts: [{ text: 'hello' }, { text: 'world' }] };

let server: MisbehavingServer;
beforeAll(async () => {
  server = await startMisbehavingServer();
});
afterAll(async () => {
  await server.close();
});

function options(mode: string, extra: Partial<BenchOptions> = {}): BenchOptions {
  return {
    target: `${server.url}/m/${mode}`,
    model: 'm',
    load: { mode: 'closed', users: [1] },
    requests: 2,
    prompts,
    stallTimeoutMs: 300,
    ...extra,
  };
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe('every fault ends as a recorded error of its kind, and the run goes on', () => {
  const cases: Array<[string, string]> = [
    ['http500', 'http_500'],
    ['http429', 'http_429'],
    ['malformed', 'malformed_sse'],
    ['json', 'malformed_sse'],
    ['no-done', 'truncated_stream'],
    ['partial-event', 'truncated_stream'],
    ['reset-mid', 'truncated_stream'],
    ['reset-before', 'connect_reset'],
    ['stall', 'stall_timeout'],
    ['stall-headers', 'stall_timeout'],
    ['stream-error', 'stream_error'],
  ];
  it.each(cases)('%s -> %s', async (mode, kind) => {
    const result = await runBench(options(mode));
    expect(result.records).toHaveLength(2);
    for (const r of result.records) {
      expect(r.status).toBe('error');
      expect(r.error_kind).toBe(kind);
      expect(r.error_message).toBeTruthy();
    }
    const level = result.levels[0];
    expect(level.errors).toBe(2);
    expect(level.completed).toBe(0);
    expect(level.errors_by_kind).toEqual({ [kind]: 2 });
    expect(level.ttft_ms.count).toBe(0);
  });

  it('names the server error message of a non-2xx answer', async () => {
    const result = await runBench(options('http500', { requests: 1 }));
    expect(result.records[0].http_status).toBe(500);
    expect(result.records[0].error_message).toContain('injected failure');
  });

  it('a refused connection is connect_refused, and the model lookup failure is a warning', async () => {
    const port = await freePort();
    const result = await runBench({ ...options('ok'), target: `http://127.0.0.1:${port}`, model: undefined });
    expect(result.records.map((r) => r.error_kind)).toEqual(['connect_refused', 'connect_refused']);
    expect(result.meta.model).toBe('default');
    expect(result.warnings.join('\n')).toMatch(/\/v1\/models failed/);
  });

  it('users back off while the target refuses connections, so a down target gives few records', async () => {
    const port = await freePort();
    const result = await runBench({ ...options('ok'), target: `http://127.0.0.1:${port}`, requests: undefined, durationMs: 500, load: { mode: 'closed', users: [2] } });
    // Per user: fail, 100 ms, fail, 200 ms, fail, 400 ms (the level has ended): three or four attempts.
    expect(result.records.length).toBeGreaterThanOrEqual(4);
    expect(result.records.length).toBeLessThanOrEqual(10);
    expect(result.levels[0].errors_by_kind).toEqual({ connect_refused: result.records.length });
  });

  it('keeps going through intermittent failures and counts them apart', async () => {
    const result = await runBench(options('flaky', { requests: 6, load: { mode: 'closed', users: [2] } }));
    const level = result.levels[0];
    expect(level.requests).toBe(6);
    expect(level.completed).toBe(3);
    expect(level.errors_by_kind).toEqual({ http_500: 3 });
    expect(level.error_rate).toBe(0.5);
    expect(level.ttft_ms.count).toBe(3);
  });
});

describe('successful streams', () => {
  it('records chunk times, server usage, and the expert from gateway headers', async () => {
    const result = await runBench(options('ok', { requests: 4 }));
    const level = result.levels[0];
    expect(level.completed).toBe(4);
    for (const r of result.records) {
      expect(r.status).toBe('ok');
      expect(r.chunk_times_ms).toHaveLength(3);
      expect(r.tokens_source).toBe('usage');
      expect(r.output_tokens).toBe(3);
      expect(r.prompt_tokens).toBe(7);
      expect(r.ttft_ms).toBe(r.chunk_times_ms[0]);
    }
    expect(Object.keys(level.per_expert)).toEqual(['code', 'math']);
    expect(level.per_expert.code.requests + level.per_expert.math.requests).toBe(4);
    expect(level.per_expert.code.share).toBe(0.5);
  });

  it('counts tokens when the server sends no usage', async () => {
    const result = await runBench(options('counted', { requests: 1 }));
    expect(result.records[0]).toMatchObject({ status: 'ok', tokens_source: 'counted', output_tokens: 3 });
  });

  it('speaks Triton generate_stream', async () => {
    const result = await runBench(options('triton', { protocol: 'triton', model: 'ensemble', requests: 2 }));
    for (const r of result.records) expect(r).toMatchObject({ status: 'ok', tokens_source: 'usage', output_tokens: 3 });
    expect(result.records[0].chunk_times_ms).toHaveLength(3);
  });
});

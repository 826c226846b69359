import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPrompts, parseDuration, parseLength, parseNumberList, parsePrometheusText, parseSlo, parseThinkTime, splitTarget } from '../../src/harness/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bench-inputs-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('flag parsers', () => {
  it('durations, lists, SLOs, think times and lengths', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('2s')).toBe(2000);
    expect(parseDuration('1.5m')).toBe(90_000);
    expect(parseDuration('30')).toBe(30_000);
    expect(parseDuration('30', 'ms')).toBe(30);
    expect(parseNumberList('1,10, 100', '--users', true)).toEqual([1, 10, 100]);
    expect(parseNumberList('0.5,2', '--rate', false)).toEqual([0.5, 2]);
    expect(parseSlo('ttft=500ms,tpot=50ms')).toEqual({ ttft_ms: 500, tpot_ms: 50 });
    expect(parseSlo('e2e=2s')).toEqual({ e2e_ms: 2000 });
    expect(parseThinkTime('250')).toEqual({ kind: 'fixed', ms: 250 });
    expect(parseThinkTime('exp:2s')).toEqual({ kind: 'exponential', meanMs: 2000 });
    expect(parseLength('512:128', '--input-tokens')).toEqual({ mean: 512, spread: 128 });
  });

  it('reject bad values with a message naming the problem', () => {
    expect(() => parseDuration('soon')).toThrow(/'soon' is not a duration/);
    expect(() => parseNumberList('1,x', '--users', true)).toThrow(/--users must be positive integers, got 'x'/);
    expect(() => parseNumberList('1.5', '--users', true)).toThrow(/--users/);
    expect(() => parseSlo('latency=5ms')).toThrow(/unknown SLO 'latency'/);
    expect(() => parseSlo('ttft')).toThrow(/name=value/);
    expect(() => parseLength('10:20', '--input-tokens')).toThrow(/spread must be smaller/);
    expect(() => splitTarget('localhost:8000')).toThrow(/must be http/);
    expect(() => splitTarget('nope')).toThrow(/not a URL/);
    expect(splitTarget('http://127.0.0.1:8000/v1/')).toEqual({ origin: 'http://127.0.0.1:8000', basePath: '' });
  });
});

describe('Prometheus text parsing', () => {
  it('keeps gauges and untyped samples, summed over labels; drops counters and process metrics', () => {
    const text = [
      '# HELP vllm:num_requests_running Running requests.',
      '# TYPE vllm:num_requests_running gauge',
      'vllm:num_requests_running{model_name="a"} 3',
      'vllm:num_requests_running{model_name="b"} 4',
      '# TYPE vllm:gpu_cache_usage_perc gauge',
      'vllm:gpu_cache_usage_perc{model_name="a",le="x y"} 0.25',
      '# TYPE vllm:generation_tokens_total counter',
      'vllm:generation_tokens_total 1234',
      '# TYPE process_cpu_seconds_total counter',
      'process_resident_memory_bytes 99',
      'nv_gpu_utilization{gpu_uuid="x"} 0.5 1700000000000',
      '# TYPE vllm:time_to_first_token_seconds histogram',
      'vllm:time_to_first_token_seconds_bucket{le="0.1"} 3',
      'vllm:time_to_first_token_seconds_sum 0.2',
      'vllm:time_to_first_token_seconds_count 3',
      'garbage line',
    ].join('\n');
    const values = parsePrometheusText(text);
    expect(Object.fromEntries(values)).toEqual({ 'vllm:num_requests_running': 7, 'vllm:gpu_cache_usage_perc': 0.25, nv_gpu_utilization: 0.5 });
  });
});

describe('prompt sources', () => {
  it('reads JSONL with prompt, text, question or chat messages', async () => {
    const file = join(dir, 'p.jsonl');
    await writeFile(file, [
      JSON.stringify({ prompt: 'one' }),
      '',
      JSON.stringify({ question: 'two' }),
      JSON.stringify({ messages: [{ role: 'system', content: 's' }, { role: 'user', content: 'three' }] }),
    ].join('\n'));
    const set = await loadPrompts({ kind: 'dataset', file });
    expect(set.prompts.map((p) => p.text)).toEqual(['one', 'two', 'three']);
  });

  it('names the line of a bad dataset, and a missing file', async () => {
    const file = join(dir, 'bad.jsonl');
    await writeFile(file, `${JSON.stringify({ prompt: 'ok' })}\n{oops\n`);
    await expect(loadPrompts({ kind: 'dataset', file })).rejects.toThrow(/bad.jsonl line 2: not valid JSON/);
    await writeFile(file, `${JSON.stringify({ other: 'x' })}\n`);
    await expect(loadPrompts({ kind: 'dataset', file })).rejects.toThrow(/line 1: no prompt field/);
    await expect(loadPrompts({ kind: 'dataset', file: join(dir, 'none.jsonl') })).rejects.toThrow(/cannot read dataset .*ENOENT/);
  });

  // The shared data sets sit beside the project (../shared/data), for every developer and for CI.
  const gsm8k = fileURLToPath(new URL('../../../shared/data/gsm8k/test.jsonl', import.meta.url));
  it.skipIf(!existsSync(gsm8k))('reads a public data set from ../shared/data (GSM8K questions)', async () => {
    const set = await loadPrompts({ kind: 'dataset', file: gsm8k });
    expect(set.prompts.length).toBe(1319);
  });

  it('defaults to the project corpus in data/corpus', async () => {
    const set = await loadPrompts({ kind: 'corpus' });
    expect(set.source).toMatch(/^corpus \(.*\.jsonl/);
    expect(set.prompts.length).toBeGreaterThan(0);
    expect(set.prompts.every((p) => p.text.trim() !== '')).toBe(true);
  });

  it('synthetic prompts and output lengths are reproducible by seed and within the spread', async () => {
    const a = await loadPrompts({ kind: 'synthetic', inputTokens: { mean: 50, spread: 10 }, count: 20 }, { seed: 3, outputTokens: { mean: 100, spread: 20 } });
    const b = await loadPrompts({ kind: 'synthetic', inputTokens: { mean: 50, spread: 10 }, count: 20 }, { seed: 3, outputTokens: { mean: 100, spread: 20 } });
    expect(a).toEqual(b);
    for (const p of a.prompts) {
      const words = p.text.split(' ').length;
      expect(words).toBeGreaterThanOrEqual(40);
      expect(words).toBeLessThanOrEqual(60);
      expect(p.maxTokens).toBeGreaterThanOrEqual(80);
      expect(p.maxTokens).toBeLessThanOrEqual(120);
    }
  });
});

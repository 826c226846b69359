import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { VirtualClock, createEngine, loadCalibrationTable, resolveProfile, runCalibration, simulateWorkload, type Workload } from '../../src/sim/index.js';

describe('calibration table', () => {
  const rows = loadCalibrationTable();
  const results = runCalibration(rows);

  it('holds the rows the issue requires, each with a source', () => {
    expect(rows.length).toBeGreaterThanOrEqual(19);
    for (const r of rows) expect(r.source.length).toBeGreaterThan(10);
    const has = (gpu: string, model: string, input: number, output: number) =>
      rows.some((r) => r.gpu === gpu && r.model === model && 'input' in r.workload && r.workload.input === input && r.workload.output === output);
    expect(has('h100-80gb', 'llama-3.1-8b', 2048, 128)).toBe(true);
    expect(has('h200', 'llama-3.1-70b', 1000, 1000)).toBe(true);
    expect(has('a10g', 'llama-3-8b', 550, 150)).toBe(true);
  });

  it.each(results.map((r, i) => [i, `${r.gpu}:${r.model}:tp${r.tp}:${r.engine} ${r.workload} ${r.metric}`, r] as const))(
    'row %i %s is within tolerance in virtual time',
    (_i, _name, r) => {
      expect(r.pass, `simulated ${r.simulated.toFixed(2)} vs published ${r.published}: error ${(r.error * 100).toFixed(1)}%`).toBe(true);
    },
  );
});

describe('named clients', () => {
  const table = (clientFields: string, rowFields: string): URL => {
    const file = join(mkdtempSync(join(tmpdir(), 'calib-')), 'table.yaml');
    writeFileSync(
      file,
      `clients:\n  c: { ${clientFields} }\nrows:\n  - { source: test source row, gpu: a10g, model: llama-3-8b, format: bf16, tp: 1, engine: vllm, ` +
        `workload: { kind: closed, client: c, input: 100, output: 10, concurrency: 2, requests: 4${rowFields} }, metric: ttft_ms, value: 100 }\n`,
    );
    return pathToFileURL(file);
  };

  it('gives every row of a client the client parameters', () => {
    const [row] = loadCalibrationTable(table('waves: true, launch_ms: 50', ''));
    expect(row.workload).toMatchObject({ kind: 'closed', waves: true, launch_ms: 50, concurrency: 2 });
  });

  it('refuses a row that sets a client parameter itself', () => {
    expect(() => loadCalibrationTable(table('waves: true, launch_ms: 50', ', launch_ms: 60'))).toThrow(/launch_ms: set by client 'c'/);
  });
});

describe('closed workloads as a client measures them', () => {
  const deployment = resolveProfile('a10g:llama-3-8b:bf16:tp1:vllm');
  type ClosedWorkload = Extract<Workload, { kind: 'closed' }>;
  const closed = (extra: Partial<ClosedWorkload>): ClosedWorkload => ({
    kind: 'closed', input: 200, output: 40, input_stddev: 0, output_stddev: 0, concurrency: 4, requests: 8, waves: false, client_token_ratio: 1,
    chat_template_tokens: 0, launch_ms: 0, wave_gap_ms: 0, worker_start_ms: 0, worker_group: 1, ...extra,
  });
  const runMs = (w: ClosedWorkload, tokPerS: number | undefined): number => ((w.requests * w.output) / (tokPerS as number)) * 1e3;

  it('counts tokens in the client tokenizer: the same served work, scaled figures', () => {
    const served = simulateWorkload(deployment, closed({}));
    const counted = simulateWorkload(deployment, closed({ input: 400, client_token_ratio: 2 }));
    expect(counted.ttft_ms).toBeCloseTo(served.ttft_ms as number, 9);
    expect(counted.output_throughput).toBeCloseTo(2 * (served.output_throughput as number), 6);
    expect(counted.latency_per_token_ms).toBeCloseTo((served.latency_per_token_ms as number) / 2, 9);
  });

  it('waits for a whole wave before the next one, which costs throughput when lengths differ', () => {
    const steady = simulateWorkload(deployment, closed({ output_stddev: 15 }));
    const waves = simulateWorkload(deployment, closed({ output_stddev: 15, waves: true }));
    expect(waves.output_throughput as number).toBeLessThan(steady.output_throughput as number);
  });

  it('spends launch_ms of client time before each request and wave_gap_ms after each wave', () => {
    const one = closed({ concurrency: 1, requests: 3, waves: true });
    const direct = simulateWorkload(deployment, one);
    const launched = closed({ concurrency: 1, requests: 3, waves: true, launch_ms: 100, wave_gap_ms: 20 });
    const measured = simulateWorkload(deployment, launched);
    expect(runMs(launched, measured.output_throughput) - runMs(one, direct.output_throughput)).toBeCloseTo(3 * 120, 6);
    expect(measured.ttft_ms).toBeCloseTo(direct.ttft_ms as number, 9);
  });

  it('holds a request until its worker is up: workers come up worker_group at a time', () => {
    const direct = closed({ requests: 4, waves: true });
    const slow = closed({ requests: 4, waves: true, worker_group: 2, worker_start_ms: 1000 });
    // Workers 3 and 4 come up 2 x 1000 ms after the start, so the only wave ends at least 2 s later.
    expect(runMs(slow, simulateWorkload(deployment, slow).output_throughput)).toBeGreaterThan(runMs(direct, simulateWorkload(deployment, direct).output_throughput) + 1500);
  });

  it('adds the chat template to each prompt the server sees', () => {
    const plain = simulateWorkload(deployment, closed({ concurrency: 1, requests: 1 }));
    const templated = simulateWorkload(deployment, closed({ concurrency: 1, requests: 1, chat_template_tokens: 1000 }));
    expect(templated.ttft_ms as number).toBeGreaterThan(plain.ttft_ms as number);
  });
});

describe('vLLM v0.4 scheduling (chunkedPrefill: false)', () => {
  // A decodes; B arrives. With chunked prefill B's prompt joins A's decode in one step; without it,
  // B's whole prompt runs in a step of its own and A's next token waits for it.
  const run = (chunkedPrefill: boolean): { aNext: number; bFirst: number } => {
    const clock = new VirtualClock();
    const engine = createEngine(resolveProfile('a10g:llama-3-8b:bf16:tp1:vllm'), { clock, chunkedPrefill });
    let aTokens = 0;
    let bSubmittedAfter = -1;
    let aNext = -1;
    let bFirst = -1;
    engine.submit(
      { promptTokens: 100, maxTokens: 20, ignoreEos: true },
      {
        onToken: (_n, at) => {
          aTokens++;
          if (aTokens === 2) {
            bSubmittedAfter = aTokens;
            engine.submit({ promptTokens: 2000, maxTokens: 2, ignoreEos: true }, { onToken: (_m, bt) => void (bFirst < 0 && (bFirst = bt)), onFinish: () => {} });
          } else if (bSubmittedAfter > 0 && aNext < 0) aNext = at;
        },
        onFinish: () => {},
      },
    );
    clock.run();
    return { aNext, bFirst };
  };

  it('prefills a waiting prompt in a step of its own before the running sequences decode', () => {
    const chunked = run(true);
    const prefillFirst = run(false);
    expect(chunked.aNext).toBeCloseTo(chunked.bFirst, 0);
    expect(prefillFirst.aNext).toBeGreaterThan(prefillFirst.bFirst);
  });
});

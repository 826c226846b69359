import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/common/rng.js';
import { VirtualClock, createEngine, createStepModel, resolveProfile, type Deployment, type FinishInfo, type SimEngine } from '../../src/sim/index.js';

/** A deployment with a deliberately small KV cache, to force waiting and preemption. */
function tinyKv(blocks: number, base = 'h100-80gb:llama-3.2-1b:bf16:tp1'): Deployment {
  const d = resolveProfile(base);
  return { ...d, kvBlocks: blocks, kvCapacityTokens: blocks * 16, contextLength: blocks * 16 };
}

interface Outcome {
  tokens: number;
  tokenTimes: number[];
  finish?: FinishInfo;
}

function submitAll(engine: SimEngine, reqs: { promptTokens: number; maxTokens: number; ignoreEos?: boolean }[], check?: () => void): Outcome[] {
  return reqs.map((r) => {
    const o: Outcome = { tokens: 0, tokenTimes: [] };
    engine.submit(r, {
      onToken: (n, at) => {
        o.tokens += n;
        o.tokenTimes.push(at);
        check?.();
      },
      onFinish: (info) => {
        o.finish = info;
      },
    });
    return o;
  });
}

describe('continuous batching engine', () => {
  it('never over-commits the KV cache, preempts under pressure, and finishes every request with exact token counts', () => {
    const clock = new VirtualClock();
    const engine = createEngine(tinyKv(64), { clock, seed: 3, maxNumSeqs: 16, maxNumBatchedTokens: 256 });
    let maxUsed = 0;
    const check = (): void => {
      const s = engine.stats();
      maxUsed = Math.max(maxUsed, s.kvBlocksUsed);
      expect(s.kvBlocksUsed).toBeLessThanOrEqual(s.kvBlocksTotal);
    };
    const reqs = Array.from({ length: 40 }, (_, i) => ({ promptTokens: 40 + (i % 7) * 30, maxTokens: 60 + (i % 5) * 40, ignoreEos: true }));
    const outcomes = submitAll(engine, reqs, check);
    clock.run();
    const stats = engine.stats();
    expect(stats.preemptions).toBeGreaterThan(0);
    expect(maxUsed).toBeGreaterThan(48);
    outcomes.forEach((o, i) => {
      expect(o.finish?.reason).toBe('length');
      expect(o.finish?.outputTokens).toBe(reqs[i].maxTokens);
      expect(o.tokens).toBe(reqs[i].maxTokens);
    });
    expect(stats.generationTokens).toBe(reqs.reduce((s, r) => s + r.maxTokens, 0));
    expect(stats.kvBlocksUsed).toBe(0);
    expect(stats.running + stats.waiting).toBe(0);
  });

  it('keeps its invariants under random arrivals and cancellations', () => {
    const clock = new VirtualClock();
    const engine = createEngine(tinyKv(48), { clock, seed: 5, maxNumSeqs: 8, maxNumBatchedTokens: 128, outputLength: { kind: 'uniform', min: 1, max: 80 } });
    const rng = createRng(99);
    let finished = 0;
    let cancelled = 0;
    const n = 120;
    for (let i = 0; i < n; i++) {
      clock.schedule(rng.next() * 2000, () => {
        let got = 0;
        const maxTokens = 1 + Math.floor(rng.next() * 100);
        const handle = engine.submit({ promptTokens: 1 + Math.floor(rng.next() * 300), maxTokens }, {
          onToken: (c) => {
            got += c;
            expect(engine.stats().kvBlocksUsed).toBeLessThanOrEqual(48);
          },
          onFinish: (info) => {
            expect(info.outputTokens).toBe(got);
            if (info.reason === 'cancelled') cancelled++;
            else {
              expect(got).toBeLessThanOrEqual(maxTokens);
              finished++;
            }
          },
        });
        if (rng.next() < 0.2) clock.schedule(clock.now() + rng.next() * 200, () => handle.cancel());
      });
    }
    clock.run();
    expect(finished + cancelled).toBe(n);
    expect(cancelled).toBeGreaterThan(0);
    expect(engine.stats()).toMatchObject({ running: 0, waiting: 0, kvBlocksUsed: 0 });
  });

  it('admits in FIFO order: equal requests get their first token in submission order', () => {
    const clock = new VirtualClock();
    const engine = createEngine(resolveProfile('h100-80gb:llama-3-8b:fp8:tp1'), { clock, maxNumSeqs: 4 });
    const outcomes = submitAll(engine, Array.from({ length: 30 }, () => ({ promptTokens: 500, maxTokens: 20, ignoreEos: true })));
    clock.run();
    const firsts = outcomes.map((o) => o.tokenTimes[0]);
    for (let i = 1; i < firsts.length; i++) expect(firsts[i]).toBeGreaterThanOrEqual(firsts[i - 1]);
    expect(firsts[29]).toBeGreaterThan(firsts[0]);
  });

  it('respects max_num_seqs and max_num_batched_tokens', () => {
    const clock = new VirtualClock();
    const engine = createEngine(resolveProfile('h100-80gb:llama-3-8b:bf16:tp1'), { clock, maxNumSeqs: 8, maxNumBatchedTokens: 1024 });
    let maxRunning = 0;
    submitAll(engine, Array.from({ length: 20 }, () => ({ promptTokens: 3000, maxTokens: 5, ignoreEos: true })), () => {
      maxRunning = Math.max(maxRunning, engine.stats().running);
    });
    clock.run();
    expect(maxRunning).toBeLessThanOrEqual(8);
    expect(maxRunning).toBeGreaterThan(1);
    // 3000-token prompts with a 1024-token budget need at least 3 chunked steps before the first token.
    expect(engine.stats().steps).toBeGreaterThanOrEqual(20 * 3);
  });

  it('draws output lengths from the distribution unless ignore_eos, capped by max_tokens', () => {
    const clock = new VirtualClock();
    const engine = createEngine(resolveProfile('h100-80gb:llama-3.2-1b:bf16:tp1'), { clock, outputLength: { kind: 'fixed', tokens: 7 } });
    const [capped, drawn, exact] = submitAll(engine, [
      { promptTokens: 10, maxTokens: 3 },
      { promptTokens: 10, maxTokens: 50 },
      { promptTokens: 10, maxTokens: 50, ignoreEos: true },
    ]);
    clock.run();
    expect(capped.finish).toMatchObject({ outputTokens: 3, reason: 'length' });
    expect(drawn.finish).toMatchObject({ outputTokens: 7, reason: 'stop' });
    expect(exact.finish).toMatchObject({ outputTokens: 50, reason: 'length' });
  });

  it('frees blocks at once on cancel and keeps serving the others', () => {
    const clock = new VirtualClock();
    const engine = createEngine(resolveProfile('h100-80gb:llama-3.2-1b:bf16:tp1'), { clock });
    let cancelledTokens = 0;
    let cancelledReason = '';
    const handle = engine.submit({ promptTokens: 100, maxTokens: 1000, ignoreEos: true }, {
      onToken: () => { cancelledTokens++; },
      onFinish: (i) => { cancelledReason = i.reason; },
    });
    const [other] = submitAll(engine, [{ promptTokens: 100, maxTokens: 50, ignoreEos: true }]);
    clock.runUntil(30);
    const usedBefore = engine.stats().kvBlocksUsed;
    handle.cancel();
    expect(engine.stats().kvBlocksUsed).toBeLessThan(usedBefore);
    clock.run();
    expect(cancelledReason).toBe('cancelled');
    expect(cancelledTokens).toBeLessThan(1000);
    expect(other.finish?.outputTokens).toBe(50);
    expect(engine.stats().kvBlocksUsed).toBe(0);
  });

  it('rejects requests that cannot fit the context', () => {
    const engine = createEngine(tinyKv(8), { clock: new VirtualClock() });
    expect(() => engine.submit({ promptTokens: 200, maxTokens: 1 }, { onToken: () => undefined, onFinish: () => undefined })).toThrow(/context length of 128/);
    expect(() => engine.submit({ promptTokens: 0, maxTokens: 1 }, { onToken: () => undefined, onFinish: () => undefined })).toThrow(/promptTokens/);
  });

  it("hands a step's tokens out in batch order, one per-sequence overhead apart, before the next step ends", () => {
    const clock = new VirtualClock();
    const deployment = resolveProfile('h100-80gb:llama-3-8b:fp8:tp1');
    const engine = createEngine(deployment, { clock });
    const gapMs = deployment.engine.per_seq_overhead_us / 1e3;
    expect(gapMs).toBeGreaterThan(0);
    const reqs = Array.from({ length: 5 }, () => ({ promptTokens: 100, maxTokens: 3, ignoreEos: true }));
    const outcomes = submitAll(engine, reqs);
    clock.run();
    for (let step = 0; step < 3; step++) {
      const times = outcomes.map((o) => o.tokenTimes[step]);
      times.forEach((t, i) => expect(t - times[0]).toBeCloseTo(i * gapMs, 9));
    }
    // The last token of one step leaves before the first token of the next.
    for (let step = 0; step < 2; step++) expect(outcomes[4].tokenTimes[step]).toBeLessThan(outcomes[0].tokenTimes[step + 1]);
    outcomes.forEach((o) => expect(o.finish?.atMs).toBe(o.tokenTimes[2]));
  });

  it('shares one virtual clock between engines and a driver, reporting utilisation', () => {
    const clock = new VirtualClock();
    const a = createEngine(resolveProfile('h100-80gb:llama-3-8b:fp8:tp1'), { clock });
    const b = createEngine(resolveProfile('a100-80gb:llama-3-8b:bf16:tp1'), { clock });
    const finishes: number[] = [];
    clock.schedule(1000, () => {
      for (const e of [a, b]) e.submit({ promptTokens: 200, maxTokens: 100, ignoreEos: true }, { onToken: () => undefined, onFinish: (i) => finishes.push(i.atMs) });
    });
    clock.runUntil(1200);
    expect(a.stats().gpuUtilization).toBeGreaterThan(0.1);
    clock.run();
    expect(finishes).toHaveLength(2);
    expect(Math.min(...finishes)).toBeGreaterThan(1000);
    // A100 has less bandwidth than H100 with FP8 weights: it finishes later.
    expect(finishes[1]).toBeGreaterThan(finishes[0]);
  });
});

describe('roofline step model', () => {
  const decode = (batch: number, ctx: number) => ({ decodeSeqs: batch, decodeContext: batch * ctx, prefillSeqs: 0, prefillTokens: 0, prefillAttention: 0, prefillContext: 0 });

  it('puts an 8B bf16 decode step on H100 at no less than the bandwidth floor', () => {
    const model = createStepModel(resolveProfile('h100-80gb:llama-3-8b:bf16:tp1'));
    expect(model.stepMs(decode(1, 512))).toBeGreaterThanOrEqual(4.8);
    expect(model.stepMs(decode(64, 512))).toBeGreaterThan(model.stepMs(decode(1, 512)));
  });

  it('becomes compute-bound for large prefills and charges all-reduce only with TP > 1', () => {
    const tp1 = createStepModel(resolveProfile('h100-80gb:llama-3-70b:fp8:tp1'));
    const tp2 = createStepModel(resolveProfile('h100-80gb:llama-3-70b:fp8:tp2'));
    const prefill = { decodeSeqs: 0, decodeContext: 0, prefillSeqs: 1, prefillTokens: 4096, prefillAttention: (4096 * 4097) / 2, prefillContext: 0 };
    const b1 = tp1.breakdown(prefill);
    const b2 = tp2.breakdown(prefill);
    expect(b1.computeMs).toBeGreaterThan(b1.memoryMs);
    expect(b1.allReduceMs).toBe(0);
    expect(b2.allReduceMs).toBeGreaterThan(0);
    expect(b2.computeMs).toBeCloseTo(b1.computeMs / 2, 5);
  });
});

describe('virtual clock', () => {
  it('runs events in time order, same-time events in scheduling order, and skips cancelled ones', () => {
    const clock = new VirtualClock();
    const seen: string[] = [];
    clock.schedule(5, () => seen.push('b'));
    clock.schedule(1, () => seen.push('a'));
    clock.schedule(5, () => seen.push('c'));
    clock.schedule(3, () => seen.push('x')).cancel();
    clock.schedule(2, () => clock.schedule(4, () => seen.push('nested')));
    expect(clock.runUntil(4)).toBe(3);
    expect(clock.now()).toBe(4);
    clock.run();
    expect(seen).toEqual(['a', 'nested', 'b', 'c']);
    expect(clock.now()).toBe(5);
  });
});

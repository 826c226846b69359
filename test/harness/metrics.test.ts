import { describe, expect, it } from 'vitest';
import { summarize, summarizeLevel, type RequestRecord } from '../../src/harness/index.js';

function rec(partial: Partial<RequestRecord> & Pick<RequestRecord, 'sent_ms' | 'end_ms'>): RequestRecord {
  return { id: 0, level: 0, chunk_times_ms: [], output_tokens: 0, tokens_source: 'usage', status: 'ok', ...partial };
}

/** HDR percentiles are exact to three significant digits. */
function near(actual: number | null, expected: number): void {
  expect(actual).not.toBeNull();
  expect(Math.abs((actual as number) - expected)).toBeLessThanOrEqual(expected * 0.001 + 1e-9);
}

describe('summarize', () => {
  it('is null for no sample and exact for one', () => {
    expect(summarize([])).toEqual({ count: 0, mean: null, p50: null, p90: null, p99: null, max: null });
    expect(summarize([12.345])).toEqual({ count: 1, mean: 12.345, p50: 12.345, p90: 12.345, p99: 12.345, max: 12.345 });
  });

  it('takes percentiles over 1..100', () => {
    const s = summarize(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(s.mean).toBe(50.5);
    near(s.p50, 50);
    near(s.p90, 90);
    near(s.p99, 99);
    expect(s.max).toBe(100);
  });
});

describe('summarizeLevel: the metric definitions of docs/architecture.md on hand-computed cases', () => {
  it('n = 1: one request with four chunks', () => {
    const s = summarizeLevel([rec({ sent_ms: 0, chunk_times_ms: [10, 20, 30, 40], output_tokens: 4, end_ms: 45 })], { users: 1 });
    expect(s.ttft_ms).toMatchObject({ count: 1, mean: 10, p50: 10, p99: 10, max: 10 });
    expect(s.e2e_ms).toMatchObject({ count: 1, mean: 40, max: 40 });
    expect(s.tpot_ms).toMatchObject({ count: 1, mean: 10 }); // (40 - 10) / (4 - 1)
    expect(s.ntpot_ms.mean).toBe(10); // 40 / 4
    expect(s.itl_ms).toMatchObject({ count: 3, mean: 10, max: 10 });
    expect(s.duration_s).toBe(0.045); // first send (0) to last completion (45)
    expect(s.requests_per_s).toBe(22.222);
    expect(s.output_tokens_per_s).toBe(88.889);
    expect(s.goodput_per_s).toBe(22.222);
    expect(s).toMatchObject({ users: 1, label: '1 user', mode: 'closed', completed: 1, errors: 0, error_rate: 0, offered_rate_per_s: null });
  });

  it('failed requests count apart and stay out of the latencies', () => {
    const records = [
      rec({ id: 1, sent_ms: 0, chunk_times_ms: [100, 150, 200], output_tokens: 3, end_ms: 210 }),
      rec({ id: 2, sent_ms: 50, chunk_times_ms: [300, 400], output_tokens: 2, end_ms: 460, tokens_source: 'counted' }),
      rec({ id: 3, sent_ms: 100, end_ms: 120, status: 'error', error_kind: 'http_500', http_status: 500 }),
    ];
    const s = summarizeLevel(records, { users: 3, slo: { ttft_ms: 200 } });
    expect(s).toMatchObject({ requests: 3, completed: 2, errors: 1, error_rate: 0.333, errors_by_kind: { http_500: 1 } });
    expect(s.duration_s).toBe(0.46);
    expect(s.requests_per_s).toBe(4.348); // 2 / 0.46
    expect(s.output_tokens_per_s).toBe(10.87); // 5 / 0.46
    expect(s.ttft_ms.mean).toBe(200); // (100 + 300) / 2
    near(s.ttft_ms.p50, 100);
    expect(s.ttft_ms.max).toBe(300);
    expect(s.e2e_ms.mean).toBe(300); // (200 + 400) / 2
    expect(s.tpot_ms.mean).toBe(75); // (50 + 100) / 2
    expect(s.itl_ms).toMatchObject({ count: 3, mean: 66.667, max: 100 }); // [50, 50, 100] pooled
    expect(s.goodput_per_s).toBe(2.174); // only request 1 meets TTFT <= 200 ms
    expect(s.slo_attainment).toBe(0.5);
    expect(s.tokens_source).toEqual({ usage: 1, counted: 1 });
  });

  it('a TPOT objective fails the slow-decoding request', () => {
    const records = [
      rec({ sent_ms: 0, chunk_times_ms: [10, 20, 30], output_tokens: 3, end_ms: 30 }), // TPOT 10
      rec({ sent_ms: 0, chunk_times_ms: [10, 110], output_tokens: 2, end_ms: 110 }), // TPOT 100
      rec({ sent_ms: 0, chunk_times_ms: [10], output_tokens: 1, end_ms: 10 }), // n = 1: no TPOT, meets
    ];
    const s = summarizeLevel(records, { users: 3, slo: { tpot_ms: 50 } });
    expect(s.slo_attainment).toBe(0.667);
    expect(s.tpot_ms.count).toBe(2);
  });

  it('open loop: latencies run from the scheduled send time', () => {
    const s = summarizeLevel([rec({ scheduled_ms: 0, sent_ms: 5, chunk_times_ms: [10], output_tokens: 1, end_ms: 20 })], { rate: 2 });
    expect(s.ttft_ms.mean).toBe(15); // 5 + 10 - 0
    expect(s.e2e_ms.mean).toBe(15);
    expect(s.tpot_ms.count).toBe(0);
    expect(s.send_lag_ms?.mean).toBe(5);
    expect(s).toMatchObject({ mode: 'open', rate: 2, offered_rate_per_s: 2, label: '2 req/s', duration_s: 0.02, achieved_rate_per_s: 50 });
  });

  it('excludes warm-up requests from every figure', () => {
    const records = [
      rec({ sent_ms: 0, chunk_times_ms: [1000], output_tokens: 1, end_ms: 1000, warmup: true }),
      rec({ sent_ms: 5, end_ms: 6, status: 'error', error_kind: 'connect_reset', warmup: true }),
      rec({ sent_ms: 2000, chunk_times_ms: [10, 20], output_tokens: 2, end_ms: 2020 }),
    ];
    const s = summarizeLevel(records, { users: 1 });
    expect(s).toMatchObject({ requests: 1, completed: 1, errors: 0, warmup_requests: 2, errors_by_kind: {} });
    expect(s.ttft_ms.max).toBe(10);
    expect(s.window).toEqual({ start_ms: 2000, end_ms: 2020 });
  });

  it('no measured request: null latencies, zero rates', () => {
    const s = summarizeLevel([], { users: 5 });
    expect(s).toMatchObject({ requests: 0, completed: 0, requests_per_s: 0, output_tokens_per_s: 0, goodput_per_s: 0, duration_s: 0, window: null, slo_attainment: null });
    expect(s.ttft_ms.p50).toBeNull();
  });

  it('records without chunk times use ttft_ms and end_ms (virtual-time runs)', () => {
    const s = summarizeLevel([rec({ sent_ms: 0, ttft_ms: 10, end_ms: 50, output_tokens: 5 })], { users: 1 });
    expect(s.ttft_ms.mean).toBe(10);
    expect(s.e2e_ms.mean).toBe(50);
    expect(s.tpot_ms.mean).toBe(10); // (50 - 10) / 4
  });

  it('breaks the load down per expert', () => {
    const records = [
      rec({ sent_ms: 0, chunk_times_ms: [10], output_tokens: 1, end_ms: 100, expert: 'code' }),
      rec({ sent_ms: 0, chunk_times_ms: [30], output_tokens: 1, end_ms: 100, expert: 'code' }),
      rec({ sent_ms: 0, end_ms: 100, expert: 'math', status: 'error', error_kind: 'http_502' }),
    ];
    const s = summarizeLevel(records, { users: 3 });
    expect(s.per_expert.code).toMatchObject({ requests: 2, completed: 2, errors: 0, share: 0.667, output_tokens: 2, output_tokens_per_s: 20 });
    expect(s.per_expert.code.ttft_ms.mean).toBe(20);
    expect(s.per_expert.math).toMatchObject({ requests: 1, completed: 0, errors: 1, share: 0.333 });
  });
});

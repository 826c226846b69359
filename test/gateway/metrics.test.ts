import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../src/gateway/index.js';
import { startTestOpenAIStub, type TestOpenAIStub } from '../helpers/openai-stub.js';
import { chat, openaiExpert, postJson, startTestGateway } from './setup.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A strict parser of the Prometheus text format (0.0.4): fails on any line it does not understand. */
function parsePrometheus(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const comment = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (comment) {
      if (comment[1] === 'TYPE') {
        expect(['counter', 'gauge', 'histogram', 'summary', 'untyped']).toContain(comment[3]);
        types.set(comment[2], comment[3]);
      }
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(line);
    if (!sample) throw new Error(`not Prometheus text: ${line}`);
    const labels: Record<string, string> = {};
    for (const m of (sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g)) labels[m[1]] = m[2];
    const family = sample[1].replace(/_(bucket|sum|count)$/, '');
    if (!types.has(sample[1]) && !types.has(family)) throw new Error(`sample without TYPE: ${line}`);
    samples.push({ name: sample[1], labels, value: Number(sample[3]) });
  }
  return { types, samples };
}

describe('/metrics', () => {
  let stub: TestOpenAIStub;
  let gw: RunningGateway;

  beforeAll(async () => {
    stub = await startTestOpenAIStub('code', { tokens: 4 });
    gw = await startTestGateway([openaiExpert('code', [stub.url], ['code'])]);
  });
  afterAll(async () => {
    await gw.close();
    await stub.close();
  });

  it('is Prometheus text with requests, errors, TTFT, duration, tokens, in-flight, decisions and classification time', async () => {
    await (await postJson(`${gw.url}/v1/chat/completions`, chat('python function', { stream: true }))).text();
    await (await postJson(`${gw.url}/v1/chat/completions`, chat('python code'))).text();
    await (await postJson(`${gw.url}/v1/chat/completions`, '{')).text();

    const res = await fetch(`${gw.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const { types, samples } = parsePrometheus(await res.text());
    const find = (name: string, labels: Record<string, string> = {}): Sample[] =>
      samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    const replica = { expert: 'code', replica: stub.url };

    expect(types.get('expert_router_requests_total')).toBe('counter');
    expect(find('expert_router_requests_total', { ...replica, endpoint: '/v1/chat/completions', status: '200' })[0].value).toBe(2);
    expect(find('expert_router_requests_total', { expert: 'none', status: '400' })[0].value).toBe(1);
    expect(find('expert_router_errors_total', { code: 'invalid_json' })[0].value).toBe(1);
    expect(find('expert_router_ttft_seconds_count', replica)[0].value).toBe(2);
    expect(find('expert_router_request_duration_seconds_count', replica)[0].value).toBe(2);
    expect(find('expert_router_tokens_total', { ...replica, kind: 'completion' })[0].value).toBe(8);
    expect(find('expert_router_tokens_total', { ...replica, kind: 'prompt' })[0].value).toBe(10);
    expect(find('expert_router_in_flight_requests', replica)[0].value).toBe(0);
    expect(find('expert_router_replica_up', replica)[0].value).toBe(1);
    expect(find('expert_router_routing_decisions_total', { cluster: '1', label: 'code', expert: 'code' })[0].value).toBe(2);
    expect(find('expert_router_classification_seconds_count')[0].value).toBe(2);
  });
});

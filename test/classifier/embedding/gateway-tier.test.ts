/**
 * The embedding tier inside the gateway, over loopback: a low-confidence prompt is embedded through a
 * remote /v1/embeddings and routed by the combined decision; a confident one never leaves the lexical
 * tier; failures and timeouts leave the lexical decision standing, and the tier header says why.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { serializeHead } from '../../../src/classifier/embedding/index.js';
import { parseGatewayConfig } from '../../../src/config/index.js';
import type { RunningGateway } from '../../../src/gateway/index.js';
import { startTestOpenAIStub, type TestOpenAIStub } from '../../helpers/openai-stub.js';
import { chat, openaiExpert, postJson, startTestGateway } from '../../gateway/setup.js';
import { axisHead } from './fixtures.js';

type Mode = 'math' | 'error' | 'stall';
let mode: Mode = 'math';
let embedCalls = 0;
let embeddings: Server;
let embeddingsUrl: string;
let stubs: TestOpenAIStub[];
let gw: RunningGateway;
let headPath: string;

beforeAll(async () => {
  embeddings = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      embedCalls++;
      if (mode === 'error') res.writeHead(500).end('{"error":"upstream detail"}');
      // (0, 1, 0) is math for the axis head.
      else if (mode === 'math') res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":[{"index":0,"embedding":[0,1,0]}]}');
    });
  });
  await new Promise<void>((resolve) => embeddings.listen(0, '127.0.0.1', resolve));
  embeddingsUrl = `http://127.0.0.1:${(embeddings.address() as AddressInfo).port}`;
  headPath = join(mkdtempSync(join(tmpdir(), 'embedding-head-')), 'head.json');
  writeFileSync(headPath, serializeHead(axisHead('remote:axis')));
  stubs = await Promise.all(['general', 'code', 'math'].map((n) => startTestOpenAIStub(n)));
  gw = await startTestGateway(
    [openaiExpert('general', [stubs[0].url], ['general']), openaiExpert('code', [stubs[1].url], ['code']), openaiExpert('math', [stubs[2].url], ['math'])],
    {
      default_expert: 'general',
      classifier: { embedding: { provider: 'remote', endpoint: embeddingsUrl, model: 'axis', head: headPath, threshold: 0.9, weight: 0.8, timeout_ms: 150 } },
    },
  );
});

afterAll(async () => {
  await gw.close();
  await Promise.all(stubs.map((s) => s.close()));
  embeddings.closeAllConnections();
  await new Promise((resolve) => embeddings.close(resolve));
});

beforeEach(() => {
  mode = 'math';
});

async function send(text: string): Promise<{ expert: string | null; reason: string | null; tier: string | null }> {
  const res = await postJson(`${gw.url}/v1/chat/completions`, chat(text));
  expect(res.status).toBe(200);
  await res.text();
  return { expert: res.headers.get('x-expert-router-expert'), reason: res.headers.get('x-expert-router-reason'), tier: res.headers.get('x-expert-router-tier') };
}

describe('gateway with classifier.embedding', () => {
  it('routes a low-confidence prompt by the embedding tier', async () => {
    // No keyword: the lexical tier is a third sure of general (below routing's 0.5: the default expert).
    expect(await send('tell me about the series of reciprocals')).toEqual({ expert: 'math', reason: 'classified', tier: 'embedding; reason=embedded' });
  });

  it('answers a repeated prompt from the cache', async () => {
    await send('a prompt asked twice');
    const calls = embedCalls;
    expect(await send('a prompt asked twice')).toMatchObject({ expert: 'math', tier: 'embedding; reason=cached' });
    expect(embedCalls).toBe(calls);
  });

  it('never embeds a confident prompt', async () => {
    const calls = embedCalls;
    expect(await send('python function code')).toEqual({ expert: 'code', reason: 'classified', tier: 'lexical; reason=confident' });
    expect(embedCalls).toBe(calls);
  });

  it('keeps the lexical decision when the embeddings server fails, saying so', async () => {
    mode = 'error';
    expect(await send('an unsure prompt while the embedder is down')).toEqual({ expert: 'general', reason: 'low_confidence', tier: 'lexical; reason=error' });
  });

  it('keeps the lexical decision when the embedding does not come in time', async () => {
    mode = 'stall';
    expect(await send('an unsure prompt while the embedder stalls')).toEqual({ expert: 'general', reason: 'low_confidence', tier: 'lexical; reason=timeout' });
  });

  it('shows the tier on /v1/route', async () => {
    const res = await postJson(`${gw.url}/v1/route`, { messages: [{ role: 'user', content: 'one more unsure prompt' }] });
    const body = (await res.json()) as { expert: string; tier: { tier: string; reason: string } };
    expect(body.expert).toBe('math');
    expect(body.tier).toMatchObject({ tier: 'embedding', reason: 'embedded' });
  });

  it('refuses a remote provider without a head or endpoint, naming the field', () => {
    const base = { listen: { port: 0 }, experts: [openaiExpert('general', ['http://127.0.0.1:1'], [])] };
    expect(() => parseGatewayConfig({ ...base, classifier: { embedding: { provider: 'remote', endpoint: embeddingsUrl, model: 'm' } } })).toThrow(/classifier\.embedding\.head/);
    expect(() => parseGatewayConfig({ ...base, classifier: { embedding: { provider: 'remote', model: 'm', head: 'h.json' } } })).toThrow(/classifier\.embedding\.endpoint/);
    expect(() => parseGatewayConfig({ ...base, classifier: { embedding: { provider: 'in-process', threshold: 2 } } })).toThrow(/classifier\.embedding\.threshold/);
  });
});

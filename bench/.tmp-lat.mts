import { Agent } from 'undici';
import { startOpenAIStub } from './lib/openai-stub.js';
import { parseGatewayConfig, startGateway } from '../dist/gateway/index.js';
import { silentLogger } from '../dist/telemetry/logger.js';
const stub = await startOpenAIStub({ ttftMs: 0, itlMs: 0, tokens: 4 });
const gw = await startGateway(parseGatewayConfig({ listen: { port: 0 }, experts: [{ name: 'e', protocol: 'openai', model: 'm', endpoints: [stub.url] }] }), { logger: silentLogger });
const agent = new Agent();
const body = JSON.stringify({ model: 'auto', stream: true, stream_options: { include_usage: true }, max_tokens: 4, messages: [{ role: 'user', content: 'Write a Python function that merges two sorted lists into one sorted list.' }] });
async function one(origin: string): Promise<[number, string]> {
  const t = performance.now();
  const res = await agent.request({ origin, path: '/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json' }, body });
  let first = -1;
  for await (const _ of res.body) { if (first < 0) first = performance.now() - t; }
  return [first, String(res.headers['server-timing'] ?? '')];
}
const d: number[] = [], g: number[] = []; const st: string[] = [];
for (let i = 0; i < 600; i++) { d.push((await one(stub.url))[0]); const [x, s] = await one(gw.url); g.push(x); st.push(s); }
const med = (a: number[]) => a.slice(200).sort((x, y) => x - y)[Math.floor((a.length - 200) / 2)];
console.log('direct', med(d).toFixed(3), 'gw', med(g).toFixed(3), 'added', (med(g) - med(d)).toFixed(3));
console.log(st.slice(-5));
await gw.close(); await stub.close(); await agent.close();

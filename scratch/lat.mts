import { request } from 'undici';
import { startSimServer } from '/work/main/src/sim/index.ts';
import { startGateway, parseGatewayConfig } from '/work/main/src/gateway/index.ts';
import { silentLogger } from '/work/main/src/telemetry/index.ts';
import { defaultModel } from '/work/main/src/classifier/index.ts';
const sim = await startSimServer({ profile: 'h100-80gb:llama-3-8b:bf16:tp1', port: 0 });
const gw = await startGateway(parseGatewayConfig({ listen: { host: '127.0.0.1', port: 0 }, experts: [{ name: 'a', protocol: 'openai', model: sim.modelName, endpoints: [sim.url], match: ['code','math','law','medicine','general','creative'] }] }), { classifier: defaultModel(), logger: silentLogger });
await gw.checkHealth();
async function once(base: string, model: string) {
  const t0 = performance.now();
  const res = await request(base + '/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, stream: true, max_tokens: 16, messages: [{ role: 'user', content: 'Write a function that reverses a string in Python please' }] }) });
  let first = 0;
  for await (const chunk of res.body) { if (!first && chunk.toString().includes('"content"')) first = performance.now() - t0; }
  return first;
}
const d: number[] = [], g: number[] = [];
for (let i = 0; i < 60; i++) { d.push(await once(sim.url, sim.modelName)); g.push(await once(gw.url, 'auto')); }
const med = (a: number[]) => a.slice(10).sort((x, y) => x - y)[Math.floor((a.length - 10) / 2)];
console.log('direct', med(d).toFixed(2), 'gateway', med(g).toFixed(2));
await gw.close(); await sim.close();

import { spawn, fork } from 'node:child_process';
import { Agent } from 'undici';
const stubChild = fork(new URL('./gateway-overhead.ts', import.meta.url).pathname, ['stub', JSON.stringify({ ttftMs: 20, itlMs: 5, tokens: 16 })], { stdio: 'inherit' });
const stubUrl: string = await new Promise((r) => stubChild.once('message', (m: any) => r(m.url)));
const code = `
const { parseGatewayConfig, startGateway } = await import('/work/main/dist/gateway/index.js');
const { silentLogger } = await import('/work/main/dist/telemetry/logger.js');
const config = parseGatewayConfig({ listen: { host: '127.0.0.1', port: 0 }, experts: [{ name: 'e', protocol: 'openai', model: 'm', endpoints: [process.argv[1]] }] });
const gw = await startGateway(config, { logger: silentLogger });
process.send({ url: gw.url });
process.on('message', async () => { await gw.close(); process.exit(0); });
`;
const gwChild = spawn(process.execPath, ['--cpu-prof', '--cpu-prof-dir=/tmp/prof', '--input-type=module', '-e', code, stubUrl], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const gwUrl: string = await new Promise((r) => gwChild.once('message', (m: any) => r(m.url)));
const agent = new Agent({ connections: null });
const body = JSON.stringify({ model: 'auto', stream: true, stream_options: { include_usage: true }, max_tokens: 16, messages: [{ role: 'user', content: 'Write a Python function that merges two sorted lists into one sorted list.' }] });
const stopAt = performance.now() + 6000;
let n = 0;
await Promise.all(Array.from({ length: 200 }, async () => {
  while (performance.now() < stopAt) {
    const res = await agent.request({ origin: gwUrl, path: '/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json' }, body });
    await res.body.text();
    n++;
  }
}));
console.log('requests', n, 'req/s', (n / 6).toFixed(0));
gwChild.send('stop');
await new Promise((r) => gwChild.once('exit', r));
stubChild.kill();
await agent.close();

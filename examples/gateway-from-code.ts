import { parseGatewayConfig, startGateway, startSimServer } from 'expert-router';

// One simulated expert stands in for a vLLM server here; any OpenAI-compatible URL works.
const expert = await startSimServer({ profile: 'h100-80gb:llama-3-8b:bf16:tp1', modelName: 'llama3' });

// The same keys as the YAML file; parseGatewayConfig checks them and fills in the defaults.
const config = parseGatewayConfig({
  listen: { host: '127.0.0.1', port: 0 },
  experts: [{ name: 'general', protocol: 'openai', model: 'llama3', endpoints: [expert.url] }],
  default_expert: 'general',
});
const gateway = await startGateway(config);

const res = await fetch(`${gateway.url}/v1/chat/completions`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ model: 'auto', max_tokens: 8, messages: [{ role: 'user', content: 'Say hello' }] }),
});
const body = (await res.json()) as { choices: { message: { content: string } }[] };
console.log(res.status, res.headers.get('x-expert-router-expert'), body.choices[0].message.content.length > 0);

await gateway.close();
await expert.close();

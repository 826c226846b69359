/** Starts a gateway on an ephemeral loopback port in front of test experts. */
import { parseGatewayConfig, type GatewayConfigInput } from '../../src/config/index.js';
import { startGateway, type RunningGateway } from '../../src/gateway/index.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import type { PromptClassifier } from '../../src/classifier/types.js';
import { testClassifier } from './keyword-classifier.js';

type ExpertInput = GatewayConfigInput['experts'][number];

export function openaiExpert(name: string, endpoints: string[], match: (string | number)[], extra: Partial<ExpertInput> = {}): ExpertInput {
  return { name, protocol: 'openai', model: `${name}-model`, endpoints, match, ...extra };
}

export async function startTestGateway(
  experts: ExpertInput[],
  extra: Partial<GatewayConfigInput> = {},
  classifier: PromptClassifier = testClassifier(),
): Promise<RunningGateway> {
  const config = parseGatewayConfig({ listen: { host: '127.0.0.1', port: 0 }, experts, health: { interval_ms: 200, timeout_ms: 500 }, ...extra });
  return startGateway(config, { classifier, logger: silentLogger });
}

export async function postJson(url: string, body: unknown, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body), ...init });
}

export const chat = (text: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  model: 'auto',
  messages: [{ role: 'user', content: text }],
  ...extra,
});

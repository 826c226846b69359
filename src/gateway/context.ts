/** What every request handler of one gateway shares. */
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/index.js';
import type { GatewayMetrics } from '../telemetry/metrics.js';
import type { Generation } from './generation.js';
import type { LiveRequests } from './live-requests.js';

export interface GatewayContext {
  /** The configuration new requests use; a reload swaps it. */
  current: Generation;
  metrics: GatewayMetrics;
  logger: Logger;
  /** Requests in progress (for the drain). */
  requests: LiveRequests;
  /** SIGTERM was received: /readyz answers 503 and new requests are refused. */
  draining: boolean;
  /** Re-reads and applies the configuration (POST /admin/reload). */
  reload(): Promise<GatewayConfig>;
}

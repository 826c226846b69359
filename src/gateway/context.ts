/** What every request handler of one gateway shares. */
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/index.js';
import type { GatewayMetrics } from '../telemetry/metrics.js';
import type { ExpertRouter } from './expert-router.js';

export interface GatewayContext {
  config: GatewayConfig;
  router: ExpertRouter;
  metrics: GatewayMetrics;
  logger: Logger;
}

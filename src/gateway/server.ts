/** startGateway: builds the experts' replica pools, the router and the HTTP server, and runs health checks. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { backendFor } from '../backends/index.js';
import { ExpertPool, HealthChecker } from '../balancer/index.js';
import type { PromptClassifier } from '../classifier/types.js';
import { CONFIG_DEFAULTS, type ExpertConfig, type GatewayConfig } from '../config/index.js';
import { createLogger } from '../telemetry/logger.js';
import { GatewayMetrics, type ReplicaSeries } from '../telemetry/metrics.js';
import { resolveClassifier } from './classifier-source.js';
import type { GatewayContext } from './context.js';
import { ExpertRouter, type ExpertRuntime } from './expert-router.js';
import { createRequestHandler } from './routes.js';

export interface GatewayDeps {
  /** Used instead of the config's classifier.model (or the default model). */
  classifier?: PromptClassifier;
  logger?: Logger;
}

export interface RunningGateway {
  url: string;
  port: number;
  metrics: GatewayMetrics;
  router: ExpertRouter;
  /** Every expert has a replica that answered. */
  ready(): boolean;
  /** Runs one round of health checks now. */
  checkHealth(): Promise<void>;
  close(): Promise<void>;
}

function expertRuntime(config: ExpertConfig, gateway: GatewayConfig, metrics: GatewayMetrics): ExpertRuntime {
  const pool = new ExpertPool(config.name, config.endpoints, {
    maxConcurrency: config.max_concurrency,
    maxQueue: gateway.limits.max_queue,
    connections: config.connections,
    keepAliveMs: CONFIG_DEFAULTS.keepAliveMs,
  });
  const series = new Map<string, ReplicaSeries>();
  for (const r of pool.replicas) {
    const s = metrics.replica(config.name, r.url);
    s.up.set(1);
    series.set(r.url, s);
  }
  const upstreamHeaders: Record<string, string> = { 'content-type': 'application/json' };
  if (config.api_key) upstreamHeaders.authorization = `Bearer ${config.api_key}`;
  return { config, pool, backend: backendFor(config), series, upstreamHeaders };
}

export async function startGateway(config: GatewayConfig, deps: GatewayDeps = {}): Promise<RunningGateway> {
  const logger = deps.logger ?? createLogger('gateway');
  const classifier = deps.classifier ?? (await resolveClassifier(config.classifier.model));
  const metrics = new GatewayMetrics();
  const experts = config.experts.map((e) => expertRuntime(e, config, metrics));
  const closePools = (): Promise<unknown> => Promise.all(experts.map((e) => e.pool.close()));
  let router: ExpertRouter;
  try {
    router = new ExpertRouter(experts, classifier, config.default_expert, config.classify.fields);
  } catch (err) {
    await closePools();
    throw err;
  }
  const ctx: GatewayContext = { config, router, metrics, logger };
  const health = new HealthChecker(experts.map((e) => ({ pool: e.pool, healthPath: e.backend.healthPath })), {
    intervalMs: config.health.interval_ms,
    timeoutMs: config.health.timeout_ms,
    onChange: (pool, replica, up) => {
      experts.find((e) => e.pool === pool)?.series.get(replica.url)?.up.set(up ? 1 : 0);
      logger.info({ expert: pool.name, replica: replica.url, up }, up ? 'replica up' : 'replica down');
    },
  });

  const server = createServer({ keepAliveTimeout: 65_000 }, createRequestHandler(ctx));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.listen.port, config.listen.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await closePools();
    throw err;
  }
  void health.start();
  const port = (server.address() as AddressInfo).port;
  const host = config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host;
  logger.info({ url: `http://${host}:${port}`, experts: experts.map((e) => e.config.name) }, 'gateway listening');

  return {
    url: `http://${host}:${port}`,
    port,
    metrics,
    router,
    ready: () => experts.every((e) => e.pool.ready),
    checkHealth: () => health.checkAll(),
    close: async () => {
      await health.stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await closePools();
    },
  };
}

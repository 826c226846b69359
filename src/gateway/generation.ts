/**
 * One configuration as the gateway runs it: the experts' replica pools, the router, the client
 * keys and the health checker. A reload builds a new generation and swaps it in; the old one keeps
 * serving the requests that started under it and closes its pools once the last has ended.
 */
import type { Logger } from 'pino';
import { backendFor } from '../backends/index.js';
import { ExpertPool, HealthChecker } from '../balancer/index.js';
import type { PromptClassifier } from '../classifier/types.js';
import { createEmbeddingCascade } from '../classifier/embedding/index.js';
import { CONFIG_DEFAULTS, endpointPrefix, type ExpertConfig, type GatewayConfig } from '../config/index.js';
import type { GatewayMetrics, ReplicaSeries } from '../telemetry/metrics.js';
import { Authenticator } from './auth.js';
import { ExpertRouter, type ExpertRuntime } from './expert-router.js';
import type { RateLimits } from './rate-limit.js';
import type { SessionTable } from './session-table.js';
import { joinUpstreamPath } from './upstream-path.js';

/** What lives as long as the gateway, across generations. */
export interface GatewayShared {
  metrics: GatewayMetrics;
  logger: Logger;
  sessions: SessionTable;
  limits: RateLimits;
}

function expertRuntime(config: ExpertConfig, gateway: GatewayConfig, metrics: GatewayMetrics): ExpertRuntime {
  const pool = new ExpertPool(config.name, config.endpoints, {
    maxConcurrency: config.max_concurrency,
    maxQueue: gateway.limits.max_queue,
    connections: config.connections,
    keepAliveMs: CONFIG_DEFAULTS.keepAliveMs,
    queueWaitMs: gateway.limits.queue_wait_ms,
    breaker: { failureThreshold: gateway.resilience.breaker_failures, openMs: gateway.resilience.breaker_open_ms },
    outlier: { consecutiveFailures: gateway.resilience.outlier_consecutive_failures, baseEjectionMs: gateway.resilience.outlier_base_ejection_ms, maxEjectionMs: gateway.resilience.outlier_max_ejection_ms },
  });
  const series = new Map<string, ReplicaSeries>();
  for (const r of pool.replicas) {
    const s = metrics.replica(config.name, r.url);
    s.up.set(1);
    series.set(r.url, s);
  }
  const upstreamHeaders: Record<string, string> = { 'content-type': 'application/json' };
  if (config.api_key) upstreamHeaders.authorization = `Bearer ${config.api_key}`;
  return { config, pool, backend: backendFor(config), series, upstreamHeaders, pathPrefix: endpointPrefix(config.endpoints[0]) };
}

export class Generation {
  readonly experts: ExpertRuntime[];
  readonly router: ExpertRouter;
  readonly auth: Authenticator;
  private readonly health: HealthChecker;
  /** Requests that started under this generation and have not ended. */
  private active = 0;
  private retired = false;
  private closing: Promise<void> | undefined;

  /** Throws ConfigError when the config does not fit the classifier (e.g. a `match` naming no cluster). */
  constructor(readonly config: GatewayConfig, classifier: PromptClassifier, shared: GatewayShared) {
    const experts = config.experts.map((e) => expertRuntime(e, config, shared.metrics));
    this.experts = experts;
    try {
      const embedding = config.classifier.embedding;
      this.router = new ExpertRouter(experts, classifier, config, shared.sessions, embedding ? createEmbeddingCascade(embedding, classifier) : undefined);
    } catch (err) {
      void this.closePools();
      throw err;
    }
    this.auth = new Authenticator(config.auth.keys, shared.limits);
    this.health = new HealthChecker(experts.map((e) => ({ pool: e.pool, healthPath: joinUpstreamPath(e.pathPrefix, e.backend.healthPath) })), {
      intervalMs: config.health.interval_ms,
      timeoutMs: config.health.timeout_ms,
      onChange: (pool, replica, up) => {
        experts.find((e) => e.pool === pool)?.series.get(replica.url)?.up.set(up ? 1 : 0);
        shared.logger.info({ expert: pool.name, replica: replica.url, up }, up ? 'replica up' : 'replica down');
      },
    });
  }

  /** Starts the health checks; resolves after the first round. */
  startHealth(): Promise<void> {
    return this.health.start();
  }

  checkHealth(): Promise<void> {
    return this.health.checkAll();
  }

  ready(): boolean {
    return this.experts.every((e) => e.pool.ready);
  }

  acquire(): void {
    this.active++;
  }

  release(): void {
    this.active--;
    if (this.retired && this.active === 0) void this.close();
  }

  /** No new requests come here; the pools close once the last request has ended. */
  retire(): Promise<void> {
    this.retired = true;
    return this.active === 0 ? this.close() : this.health.stop();
  }

  /** Stops the health checks and closes every pool (in-flight upstream requests end). */
  close(): Promise<void> {
    this.closing ??= this.health.stop().then(() => this.closePools());
    return this.closing;
  }

  private async closePools(): Promise<void> {
    await Promise.all([...this.experts.map((e) => e.pool.close()), this.router?.cascade?.close()]);
  }
}

/**
 * startGateway: the HTTP server in front of a Generation (the experts' pools, the router, the
 * keys), with the two operations a running gateway needs:
 * - reload: validate the new configuration first (a bad one is refused with its error and the old
 *   one keeps serving), health-check its replicas once, then swap it in; requests in progress
 *   finish on the old pools, which close after the last of them;
 * - shutdown (SIGTERM): /readyz answers 503 at once and new requests get 503 shutting_down (with
 *   connection: close and Retry-After); requests in progress get shutdown.drain_s to
 *   finish, then each is ended with an explicit error (an SSE error event on a stream); every step
 *   is logged.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { PromptClassifier } from '../classifier/types.js';
import { ConfigError, type GatewayConfig } from '../config/index.js';
import { ExpertRouterError } from '../common/errors.js';
import { ApiError, limitClientConnections } from '../protocol/index.js';
import { createLogger } from '../telemetry/logger.js';
import { GatewayMetrics } from '../telemetry/metrics.js';
import { resolveClassifier } from './classifier-source.js';
import type { GatewayContext } from './context.js';
import type { ExpertRouter } from './expert-router.js';
import { Generation, type GatewayShared } from './generation.js';
import { assertSafeListen } from './listen-guard.js';
import { LiveRequests } from './live-requests.js';
import { RateLimits } from './rate-limit.js';
import { createRequestHandler } from './routes.js';
import { SessionTable } from './session-table.js';

/** After the drain's deadline, ended requests get this long to write their error before sockets close. */
const FINAL_WRITE_MS = 1_000;

export interface GatewayDeps {
  /** Used instead of the config's classifier.model (or the default model), also after a reload. */
  classifier?: PromptClassifier;
  logger?: Logger;
  /** Reads the configuration again, for reload() without an argument (SIGHUP, POST /admin/reload). */
  loadConfig?: () => GatewayConfig | Promise<GatewayConfig>;
}

export interface RunningGateway {
  url: string;
  port: number;
  metrics: GatewayMetrics;
  /** The router of the configuration in use. */
  readonly router: ExpertRouter;
  /** The configuration in use. */
  readonly config: GatewayConfig;
  /** Every expert has a replica that answered. */
  ready(): boolean;
  /** Runs one round of health checks now. */
  checkHealth(): Promise<void>;
  /** Applies `config`, or the one deps.loadConfig reads; throws ConfigError (nothing changed) when it is refused. */
  reload(config?: GatewayConfig): Promise<GatewayConfig>;
  /** True from the start of shutdown(). */
  readonly draining: boolean;
  /** Drains (up to `drainMs`, default shutdown.drain_s), ends what is left with an error, and closes everything. */
  shutdown(drainMs?: number): Promise<void>;
  /** Closes everything now (open streams are cut). */
  close(): Promise<void>;
}

function delay(ms: number): { promise: Promise<void>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return { promise, cancel: () => clearTimeout(timer) };
}

/** Resolves when `done` does or after `ms`, whichever comes first; true when `done` won. */
async function within(done: Promise<void>, ms: number): Promise<boolean> {
  const timer = delay(ms);
  const won = await Promise.race([done.then(() => true), timer.promise.then(() => false)]);
  timer.cancel();
  return won;
}

export async function startGateway(config: GatewayConfig, deps: GatewayDeps = {}): Promise<RunningGateway> {
  assertSafeListen(config);
  const logger = deps.logger ?? createLogger('gateway');
  let classifier = deps.classifier ?? (await resolveClassifier(config.classifier.model));
  const shared: GatewayShared = {
    metrics: new GatewayMetrics(),
    logger,
    sessions: new SessionTable(config.routing.sessions.ttl_s * 1000, config.routing.sessions.max_entries),
    limits: new RateLimits(),
  };
  const first = new Generation(config, classifier, shared);
  /** Generations not yet closed (the current one, and retired ones still finishing requests). */
  const generations = new Set<Generation>([first]);
  const requests = new LiveRequests();
  let reloading: Promise<unknown> = Promise.resolve();

  async function applyConfig(next: GatewayConfig): Promise<GatewayConfig> {
    if (ctx.draining) throw new ConfigError('the gateway is shutting down');
    if (next.listen.host !== config.listen.host || next.listen.port !== config.listen.port) {
      throw new ConfigError(`listen: the address cannot change on reload (running on ${config.listen.host}:${config.listen.port}); restart the gateway for that`);
    }
    assertSafeListen(next);
    const nextClassifier = deps.classifier ?? (next.classifier.model === ctx.current.config.classifier.model ? classifier : await resolveClassifier(next.classifier.model));
    const generation = new Generation(next, nextClassifier, shared);
    await generation.startHealth();
    if (ctx.draining) {
      await generation.close();
      throw new ConfigError('the gateway is shutting down');
    }
    const old = ctx.current;
    classifier = nextClassifier;
    shared.sessions.configure(next.routing.sessions.ttl_s * 1000, next.routing.sessions.max_entries);
    generations.add(generation);
    ctx.current = generation;
    void old.retire().then(() => generations.delete(old));
    logger.info({ experts: next.experts.map((e) => e.name), in_flight_on_old: requests.size }, 'config reloaded');
    return next;
  }

  function reload(next?: GatewayConfig): Promise<GatewayConfig> {
    const run = reloading.then(async () => {
      try {
        if (next === undefined && !deps.loadConfig) throw new ConfigError('no configuration source to reload from');
        return await applyConfig(next ?? (await deps.loadConfig!()));
      } catch (err) {
        logger.error({ err: err instanceof Error ? err.message : String(err) }, 'config reload refused; the running config stays');
        throw err;
      }
    });
    reloading = run.catch(() => undefined);
    return run;
  }

  const ctx: GatewayContext = {
    current: first,
    metrics: shared.metrics,
    logger,
    requests,
    draining: false,
    reload: async () => {
      try {
        return await reload();
      } catch (err) {
        // A bad file or a model that does not load: the caller learns why, nothing changed.
        if (err instanceof ExpertRouterError) throw new ApiError('invalid_config', `the new configuration was refused (the running one stays): ${err.message}`, { cause: err });
        throw err;
      }
    },
  };

  const server = createServer(createRequestHandler(ctx));
  limitClientConnections(server, { maxConnections: config.limits.client_connections, keepAliveMs: config.limits.client_keep_alive_ms }, logger);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.listen.port, config.listen.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await first.close();
    throw err;
  }
  void first.startHealth();
  const port = (server.address() as AddressInfo).port;
  const host = config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host;
  const url = `http://${host}:${port}`;
  logger.info({ url, experts: config.experts.map((e) => e.name), auth: first.auth.enabled }, 'gateway listening');

  const closeAll = async (): Promise<void> => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
    await Promise.all([...generations].map((g) => g.close()));
  };

  let stopping: Promise<void> | undefined;
  let cutShort: (() => void) | undefined;
  const shutdown = (drainMs = ctx.current.config.shutdown.drain_s * 1000): Promise<void> => {
    // A second call with no drain time left (a second signal) ends the drain now.
    if (stopping) {
      if (drainMs === 0) cutShort?.();
      return stopping;
    }
    const cut = new Promise<void>((resolve) => (cutShort = resolve));
    stopping = (async () => {
      ctx.draining = true;
      logger.info({ in_flight: requests.size, drain_s: drainMs / 1000 }, 'shutting down: draining');
      // The listener stays open so that probes see /readyz answer 503; new requests get 503
      // shutting_down with connection: close. Connections of requests in progress close after their answer.
      for (const rc of requests.values()) if (!rc.res.headersSent) rc.res.shouldKeepAlive = false;
      await within(Promise.race([requests.whenEmpty(), cut]), drainMs);
      if (requests.size > 0) {
        logger.warn({ remaining: requests.size }, 'drain deadline reached: ending the remaining requests with an error');
        for (const rc of requests.values()) rc.shutdown();
        await within(requests.whenEmpty(), FINAL_WRITE_MS);
      }
      await closeAll();
      logger.info('gateway stopped');
    })();
    return stopping;
  };

  return {
    url,
    port,
    metrics: shared.metrics,
    get router() {
      return ctx.current.router;
    },
    get config() {
      return ctx.current.config;
    },
    get draining() {
      return ctx.draining;
    },
    ready: () => ctx.current.ready(),
    checkHealth: () => ctx.current.checkHealth(),
    reload,
    shutdown,
    close: async () => {
      ctx.draining = true;
      await closeAll();
    },
  };
}

/**
 * The simulated inference server over HTTP (real time): its lifecycle. Starts the engine for a
 * profile, listens, hands each request to the routes (routes.ts), applies fault settings (refusing
 * connections included), reports stats, and closes every socket on close.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { LatenessHistogram, type LatenessSummary } from '../../common/lateness-histogram.js';
import { createRng } from '../../common/rng.js';
import { sendError } from '../../protocol/index.js';
import { RealClock } from '../clock.js';
import { createEngine, type SimEngine } from '../engine.js';
import { NO_FAULTS, parseFaultUpdate, type FaultSettings } from '../faults.js';
import { createSimMetrics } from '../metrics.js';
import type { OutputLengthDistribution } from '../output-length.js';
import { Pacer } from '../pacer.js';
import { resolveProfile, type Deployment } from '../profiles.js';
import { countPromptTokens } from '../tokenizer.js';
import type { RequestContext } from './context.js';
import { simApiError } from './errors.js';
import { route } from './routes.js';

export interface SimServerOptions {
  profile: string | Deployment;
  host?: string;
  port?: number;
  seed?: number;
  /** Model name served and checked in requests; default the profile's model (Hugging Face id). */
  modelName?: string;
  faults?: Partial<FaultSettings>;
  maxNumSeqs?: number;
  maxNumBatchedTokens?: number;
  outputLength?: OutputLengthDistribution;
}

/** Token lag is kept in 0.05 ms bins up to 250 ms. */
const LAG_BIN_MS = 0.05;
const LAG_BINS = 5000;

export interface SimServerStats {
  engine: ReturnType<SimEngine['stats']>;
  /** How late tokens reached the socket against the engine's schedule, ms. */
  tokenLagMs: LatenessSummary;
  cpu: { userMs: number; systemMs: number };
  activeStreams: number;
}

export interface SimServer {
  url: string;
  port: number;
  engine: SimEngine;
  deployment: Deployment;
  modelName: string;
  faults(): FaultSettings;
  setFaults(f: Partial<FaultSettings>): void;
  stats(): SimServerStats;
  resetStats(): void;
  close(): Promise<void>;
}

export async function startSimServer(opts: SimServerOptions): Promise<SimServer> {
  const deployment = typeof opts.profile === 'string' ? resolveProfile(opts.profile) : opts.profile;
  const host = opts.host ?? '127.0.0.1';
  const clock = new RealClock();
  const seed = opts.seed ?? 1;
  const engine = createEngine(deployment, {
    clock,
    seed,
    maxNumSeqs: opts.maxNumSeqs,
    maxNumBatchedTokens: opts.maxNumBatchedTokens,
    outputLength: opts.outputLength,
  });
  const modelName = opts.modelName ?? deployment.modelName;
  const lag = new LatenessHistogram(LAG_BIN_MS, LAG_BINS);
  let faults: FaultSettings = { ...NO_FAULTS };
  let cpuBase = process.cpuUsage();
  const streams = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  countPromptTokens(''); // load the tokenizer now rather than in the first request

  const ctx: RequestContext = {
    deployment,
    engine,
    modelName,
    metrics: createSimMetrics(engine, modelName),
    rng: createRng(seed ^ 0x5bd1e995),
    lag,
    streams,
    clock,
    pacer: new Pacer(clock),
    faults: () => faults,
    setFaults: (update) => setFaults(update),
  };
  const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    route(ctx, req, res).catch((err: unknown) => sendError(res, simApiError(err)));
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => sockets.delete(socket));
  });
  await listen(server, opts.port ?? 0, host);
  const port = (server.address() as AddressInfo).port;
  let refuseTimer: NodeJS.Timeout | undefined;
  let closed = false;

  function setFaults(update: Partial<FaultSettings>): void {
    faults = { ...faults, ...parseFaultUpdate(update) };
    if (update.refuseConnectionsMs !== undefined && update.refuseConnectionsMs > 0 && server.listening) {
      // Stop listening (new connections get ECONNREFUSED); open connections stay.
      server.close();
      clearTimeout(refuseTimer);
      refuseTimer = setTimeout(() => {
        faults = { ...faults, refuseConnectionsMs: 0 };
        if (!closed) server.listen(port, host);
      }, update.refuseConnectionsMs);
    }
  }
  if (opts.faults) setFaults(opts.faults);

  return {
    url: `http://${host}:${port}`,
    port,
    engine,
    deployment,
    modelName,
    faults: () => ({ ...faults }),
    setFaults,
    stats: () => {
      const cpu = process.cpuUsage(cpuBase);
      return {
        engine: engine.stats(),
        tokenLagMs: lag.summary(),
        cpu: { userMs: cpu.user / 1e3, systemMs: cpu.system / 1e3 },
        activeStreams: streams.size,
      };
    },
    resetStats: () => {
      lag.reset();
      cpuBase = process.cpuUsage();
    },
    close: async () => {
      closed = true;
      clearTimeout(refuseTimer);
      for (const res of streams) res.destroy();
      for (const socket of sockets) socket.destroy();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

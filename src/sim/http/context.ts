/**
 * What every request handler of the simulated server shares: the engine, the served model, the
 * metrics, the seeded generator, the pacer and the current faults. Below the handlers and the
 * lifecycle (http/server.ts), so no import cycle appears.
 */
import type { ServerResponse } from 'node:http';
import type { LatenessHistogram } from '../../common/lateness-histogram.js';
import type { Rng } from '../../common/rng.js';
import type { RealClock } from '../clock.js';
import type { SimEngine } from '../engine.js';
import type { FaultSettings } from '../faults.js';
import type { SimMetrics } from '../metrics.js';
import type { Pacer } from '../pacer.js';
import type { Deployment } from '../profiles.js';

export interface RequestContext {
  deployment: Deployment;
  engine: SimEngine;
  modelName: string;
  metrics: SimMetrics;
  rng: Rng;
  /** How late tokens reached the socket against the engine's schedule. */
  lag: LatenessHistogram;
  /** Open streamed responses, destroyed when the server closes. */
  streams: Set<ServerResponse>;
  clock: RealClock;
  /** Delivers the engine's tokens and finishes at their times (see Pacer). */
  pacer: Pacer;
  faults(): FaultSettings;
  setFaults(f: Partial<FaultSettings>): void;
}

/**
 * The harness watching itself: event-loop delay and CPU per level. A loaded client delays its own
 * timestamps, so a level whose loop stalled is flagged as untrustworthy in the report.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { ClientHealth } from './metrics.js';
import { round3 } from './stats.js';

const RESOLUTION_MS = 10;
/** Above this p99 loop delay, chunk timestamps may be late by as much: the figures are flagged. */
export const TRUSTED_LOOP_DELAY_P99_MS = 10;
const BUSY_CPU_PERCENT = 90;

export interface HealthMonitor {
  stop(requests: number): ClientHealth;
}

export function startHealthMonitor(): HealthMonitor {
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  return {
    stop(requests) {
      histogram.disable();
      const cpu = process.cpuUsage(cpu0);
      const cpuMs = (cpu.user + cpu.system) / 1000;
      const wallMs = performance.now() - t0;
      // Node records each whole timer interval (resolution included): the delay is what exceeds it.
      const delay = (ns: number): number => (histogram.count > 0 ? round3(Math.max(0, ns / 1e6 - RESOLUTION_MS)) : 0);
      const loop = { p50: delay(histogram.percentile(50)), p99: delay(histogram.percentile(99)), max: delay(histogram.max) };
      const cpuPercent = wallMs > 0 ? round3((100 * cpuMs) / wallMs) : 0;
      const warnings: string[] = [];
      if (loop.p99 > TRUSTED_LOOP_DELAY_P99_MS) {
        warnings.push(`client event-loop delay p99 ${loop.p99} ms (> ${TRUSTED_LOOP_DELAY_P99_MS} ms): timings may be inflated by about that much`);
      }
      if (cpuPercent > BUSY_CPU_PERCENT) {
        warnings.push(`client used ${cpuPercent}% of a core: it may be the bottleneck; run fewer users per process`);
      }
      return {
        event_loop_delay_ms: loop,
        cpu_ms_per_request: requests > 0 ? round3(cpuMs / requests) : null,
        cpu_percent: cpuPercent,
        trusted: warnings.length === 0,
        warnings,
      };
    },
  };
}

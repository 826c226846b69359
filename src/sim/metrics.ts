/**
 * Prometheus metrics of one simulated server, under vLLM's names (so the harness scrapes a simulator
 * and a real vLLM alike) plus the simulated GPU utilisation. One registry per server.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SimEngine } from './engine.js';

// vLLM's bucket boundaries (vllm/engine/metrics.py).
const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560];
const TPOT_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80];
const E2E_BUCKETS = [0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680];

export interface SimMetrics {
  readonly registry: Registry;
  observeRequest(r: { ttftS: number; tpotS: number | undefined; e2eS: number; reason: string }): void;
}

export function createSimMetrics(engine: SimEngine, modelName: string): SimMetrics {
  const registry = new Registry();
  const labels = { model_name: modelName };
  const labelNames = ['model_name'] as const;
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({ name, help, labelNames, registers: [registry], collect() { this.set(labels, read()); } });
  };
  gauge('vllm:num_requests_running', 'Number of requests in model execution batches.', () => engine.stats().running);
  gauge('vllm:num_requests_waiting', 'Number of requests waiting to be processed.', () => engine.stats().waiting);
  gauge('vllm:gpu_cache_usage_perc', 'GPU KV-cache usage. 1 means 100 percent usage.', () => engine.stats().kvUsage);
  // vLLM V1's name for the same gauge.
  gauge('vllm:kv_cache_usage_perc', 'KV-cache usage. 1 means 100 percent usage.', () => engine.stats().kvUsage);
  gauge('sim:gpu_utilization', 'Simulated GPU busy fraction (exponentially weighted over about 1 s), 0..1.', () => engine.stats().gpuUtilization);
  gauge('sim:gpus', 'GPUs of the simulated tensor-parallel group.', () => engine.deployment.gpus);
  let promptSeen = 0;
  let generationSeen = 0;
  let preemptSeen = 0;
  new Counter({
    name: 'vllm:prompt_tokens_total', help: 'Number of prefill tokens processed.', labelNames, registers: [registry],
    collect() { const s = engine.stats(); this.inc(labels, s.promptTokens - promptSeen); promptSeen = s.promptTokens; },
  });
  new Counter({
    name: 'vllm:generation_tokens_total', help: 'Number of generation tokens processed.', labelNames, registers: [registry],
    collect() { const s = engine.stats(); this.inc(labels, s.generationTokens - generationSeen); generationSeen = s.generationTokens; },
  });
  new Counter({
    name: 'vllm:num_preemptions_total', help: 'Cumulative number of preemptions from the engine.', labelNames, registers: [registry],
    collect() { const s = engine.stats(); this.inc(labels, s.preemptions - preemptSeen); preemptSeen = s.preemptions; },
  });
  const success = new Counter({ name: 'vllm:request_success_total', help: 'Count of successfully processed requests.', labelNames: ['model_name', 'finished_reason'], registers: [registry] });
  const ttft = new Histogram({ name: 'vllm:time_to_first_token_seconds', help: 'Histogram of time to first token in seconds.', labelNames, buckets: TTFT_BUCKETS, registers: [registry] });
  const tpot = new Histogram({ name: 'vllm:time_per_output_token_seconds', help: 'Histogram of time per output token in seconds.', labelNames, buckets: TPOT_BUCKETS, registers: [registry] });
  const e2e = new Histogram({ name: 'vllm:e2e_request_latency_seconds', help: 'Histogram of end to end request latency in seconds.', labelNames, buckets: E2E_BUCKETS, registers: [registry] });
  return {
    registry,
    observeRequest({ ttftS, tpotS, e2eS, reason }) {
      ttft.observe(labels, ttftS);
      if (tpotS !== undefined) tpot.observe(labels, tpotS);
      e2e.observe(labels, e2eS);
      success.inc({ model_name: modelName, finished_reason: reason });
    },
  };
}

/**
 * The gateway's Prometheus metrics, in a registry of their own (never the global one, so several
 * gateways can live in one process). Label sets per expert and replica are bound once and reused.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const CLASSIFY_BUCKETS = [5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 5e-3, 1e-2];

/** The series of one replica of one expert, bound once. */
export interface ReplicaSeries {
  ttft: { observe(seconds: number): void };
  duration: { observe(seconds: number): void };
  inFlight: { inc(): void; dec(): void };
  promptTokens: { inc(n: number): void };
  completionTokens: { inc(n: number): void };
  up: { set(value: number): void };
}

export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({ name: 'expert_router_requests_total', help: 'Requests answered, by expert, replica, endpoint and HTTP status.', labelNames: ['expert', 'replica', 'endpoint', 'status'] as const, registers: [this.registry] });
  private readonly errors = new Counter({ name: 'expert_router_errors_total', help: 'Failed requests by stable error code.', labelNames: ['expert', 'code'] as const, registers: [this.registry] });
  private readonly ttft = new Histogram({ name: 'expert_router_ttft_seconds', help: 'Time from request arrival to the first upstream byte relayed.', labelNames: ['expert', 'replica'] as const, buckets: LATENCY_BUCKETS, registers: [this.registry] });
  private readonly duration = new Histogram({ name: 'expert_router_request_duration_seconds', help: 'Time from request arrival to the end of the response.', labelNames: ['expert', 'replica'] as const, buckets: LATENCY_BUCKETS, registers: [this.registry] });
  private readonly tokens = new Counter({ name: 'expert_router_tokens_total', help: 'Tokens reported by the experts, by kind (prompt, completion).', labelNames: ['expert', 'replica', 'kind'] as const, registers: [this.registry] });
  private readonly inFlight = new Gauge({ name: 'expert_router_in_flight_requests', help: 'Requests being served, by expert and replica.', labelNames: ['expert', 'replica'] as const, registers: [this.registry] });
  private readonly replicaUp = new Gauge({ name: 'expert_router_replica_up', help: '1 when the replica takes requests, 0 when marked down.', labelNames: ['expert', 'replica'] as const, registers: [this.registry] });
  private readonly retries = new Counter({ name: 'expert_router_retries_total', help: 'Requests retried on another replica after an upstream failure before the first byte.', labelNames: ['expert'] as const, registers: [this.registry] });
  private readonly decisions = new Counter({ name: 'expert_router_routing_decisions_total', help: 'Routing decisions by classifier cluster and chosen expert (cluster "none" when the request named an expert).', labelNames: ['cluster', 'label', 'expert'] as const, registers: [this.registry] });
  private readonly classifySeconds = new Histogram({ name: 'expert_router_classification_seconds', help: 'Time to classify one prompt.', buckets: CLASSIFY_BUCKETS, registers: [this.registry] });
  private readonly requestCounters = new Map<string, Counter.Internal>();

  replica(expert: string, replica: string): ReplicaSeries {
    const labels = { expert, replica };
    return {
      ttft: this.ttft.labels(labels),
      duration: this.duration.labels(labels),
      inFlight: this.inFlight.labels(labels),
      promptTokens: this.tokens.labels({ ...labels, kind: 'prompt' }),
      completionTokens: this.tokens.labels({ ...labels, kind: 'completion' }),
      up: this.replicaUp.labels(labels),
    };
  }

  request(expert: string, replica: string, endpoint: string, status: number): void {
    const key = `${expert}\u0000${replica}\u0000${endpoint}\u0000${status}`;
    let counter = this.requestCounters.get(key);
    if (!counter) this.requestCounters.set(key, (counter = this.requests.labels({ expert, replica, endpoint, status: String(status) })));
    counter.inc();
  }

  error(expert: string, code: string): void {
    this.errors.inc({ expert, code });
  }

  retry(expert: string): void {
    this.retries.inc({ expert });
  }

  decision(cluster: string, label: string, expert: string): void {
    this.decisions.inc({ cluster, label, expert });
  }

  classification(seconds: number): void {
    this.classifySeconds.observe(seconds);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

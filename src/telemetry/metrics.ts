/**
 * The gateway's Prometheus metrics. Each gateway owns its series (several gateways can live in one
 * process). The hot path only bumps numbers in series bound once per label set; the Prometheus text
 * (format 0.0.4) is rendered when /metrics is scraped. prom-client is not used here because its
 * bound children still hash and validate the labels on every call.
 */

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
  /** The replica's circuit breaker: 0 closed, 1 open, 2 half-open. */
  circuit: { set(value: number): void };
  /** 1 while outlier detection has the replica ejected. */
  ejected: { set(value: number): void };
}

class Value {
  value = 0;

  inc(n = 1): void {
    this.value += n;
  }

  dec(): void {
    this.value--;
  }

  set(value: number): void {
    this.value = value;
  }
}

class Buckets {
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = bounds.map(() => 0);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]) {
        this.counts[i]++;
        break;
      }
    }
    this.sum += value;
    this.count++;
  }
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatNumber(n: number): string {
  return Number.isFinite(n) ? String(n) : n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN';
}

/** One metric family: its series by label values (joined by NUL), each bound on first use. */
class Family<S extends Value | Buckets> {
  private readonly series = new Map<string, { labels: string; value: S }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'histogram',
    private readonly labelNames: readonly string[],
    private readonly make: () => S,
  ) {}

  /** The series of these label values (in labelNames order). */
  get(...values: string[]): S {
    const key = values.join('\u0000');
    let entry = this.series.get(key);
    if (!entry) {
      const labels = this.labelNames.map((name, i) => `${name}="${escapeLabel(values[i])}"`).join(',');
      entry = { labels, value: this.make() };
      this.series.set(key, entry);
    }
    return entry.value;
  }

  render(out: string[]): void {
    out.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`);
    for (const { labels, value } of this.series.values()) {
      if (value instanceof Value) {
        out.push(`${this.name}${labels ? `{${labels}}` : ''} ${formatNumber(value.value)}`);
        continue;
      }
      const sep = labels ? ',' : '';
      let cumulative = 0;
      value.bounds.forEach((bound, i) => {
        cumulative += value.counts[i];
        out.push(`${this.name}_bucket{${labels}${sep}le="${bound}"} ${cumulative}`);
      });
      out.push(`${this.name}_bucket{${labels}${sep}le="+Inf"} ${value.count}`);
      const braces = labels ? `{${labels}}` : '';
      out.push(`${this.name}_sum${braces} ${formatNumber(value.sum)}`, `${this.name}_count${braces} ${value.count}`);
    }
  }
}

const counter = (name: string, help: string, labels: readonly string[]): Family<Value> => new Family(name, help, 'counter', labels, () => new Value());
const gauge = (name: string, help: string, labels: readonly string[]): Family<Value> => new Family(name, help, 'gauge', labels, () => new Value());
const histogram = (name: string, help: string, labels: readonly string[], buckets: readonly number[]): Family<Buckets> =>
  new Family(name, help, 'histogram', labels, () => new Buckets(buckets));

export class GatewayMetrics {
  private readonly requests = counter('expert_router_requests_total', 'Requests answered, by expert, replica, endpoint and HTTP status.', ['expert', 'replica', 'endpoint', 'status']);
  private readonly errors = counter('expert_router_errors_total', 'Failed requests by stable error code.', ['expert', 'code']);
  private readonly ttft = histogram('expert_router_ttft_seconds', 'Time from request arrival to the first upstream byte relayed.', ['expert', 'replica'], LATENCY_BUCKETS);
  private readonly duration = histogram('expert_router_request_duration_seconds', 'Time from request arrival to the end of the response.', ['expert', 'replica'], LATENCY_BUCKETS);
  private readonly tokens = counter('expert_router_tokens_total', 'Tokens reported by the experts, by kind (prompt, completion).', ['expert', 'replica', 'kind']);
  private readonly inFlight = gauge('expert_router_in_flight_requests', 'Requests being served, by expert and replica.', ['expert', 'replica']);
  private readonly replicaUp = gauge('expert_router_replica_up', '1 when the replica takes requests, 0 when marked down.', ['expert', 'replica']);
  private readonly replicaCircuit = gauge('expert_router_replica_circuit_state', 'The replica\'s circuit breaker: 0 closed, 1 open, 2 half-open (as of its latest request).', ['expert', 'replica']);
  private readonly replicaEjected = gauge('expert_router_replica_ejected', '1 while outlier detection keeps the replica out of rotation (as of its latest request).', ['expert', 'replica']);
  private readonly retries = counter('expert_router_retries_total', 'Requests retried on another replica after an upstream failure before the first byte.', ['expert']);
  private readonly decisions = counter('expert_router_routing_decisions_total', 'Routing decisions by classifier cluster and chosen expert (cluster "none" when the request named an expert).', ['cluster', 'label', 'expert']);
  private readonly classifySeconds = histogram('expert_router_classification_seconds', 'Time to classify one prompt.', [], CLASSIFY_BUCKETS);
  private readonly families = [this.requests, this.errors, this.ttft, this.duration, this.tokens, this.inFlight, this.replicaUp, this.replicaCircuit, this.replicaEjected, this.retries, this.decisions, this.classifySeconds];

  readonly contentType = 'text/plain; version=0.0.4; charset=utf-8';

  replica(expert: string, replica: string): ReplicaSeries {
    return {
      ttft: this.ttft.get(expert, replica),
      duration: this.duration.get(expert, replica),
      inFlight: this.inFlight.get(expert, replica),
      promptTokens: this.tokens.get(expert, replica, 'prompt'),
      completionTokens: this.tokens.get(expert, replica, 'completion'),
      up: this.replicaUp.get(expert, replica),
      circuit: this.replicaCircuit.get(expert, replica),
      ejected: this.replicaEjected.get(expert, replica),
    };
  }

  request(expert: string, replica: string, endpoint: string, status: number): void {
    this.requests.get(expert, replica, endpoint, String(status)).inc();
  }

  error(expert: string, code: string): void {
    this.errors.get(expert, code).inc();
  }

  retry(expert: string): void {
    this.retries.get(expert).inc();
  }

  decision(cluster: string, label: string, expert: string): void {
    this.decisions.get(cluster, label, expert).inc();
  }

  classification(seconds: number): void {
    this.classifySeconds.get().observe(seconds);
  }

  text(): Promise<string> {
    const out: string[] = [];
    for (const family of this.families) family.render(out);
    return Promise.resolve(`${out.join('\n')}\n`);
  }
}

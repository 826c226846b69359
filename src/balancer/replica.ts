/** One replica of an expert: a keep-alive connection pool to its server, its load and its health. */
import { Http1Pool } from './http1/pool.js';

export interface ReplicaOptions {
  /** Cap on pooled connections (default: unlimited, one per concurrent stream). */
  connections?: number;
  keepAliveMs: number;
}

export class Replica {
  readonly url: string;
  readonly pool: Http1Pool;
  /** Requests sent to it and not yet finished. */
  inFlight = 0;
  /** Takes requests; false after it refused a connection, until a health check sees it again. */
  up = true;
  /** It answered at least once (a health check or a request): the gateway's readiness. */
  answered = false;

  constructor(url: string, opts: ReplicaOptions) {
    this.url = new URL(url).origin;
    // Streams may stay silent for long: the pool has no read timeout; the gateway's own first-token timeout guards the start.
    this.pool = new Http1Pool(this.url, { connections: opts.connections, keepAliveMs: opts.keepAliveMs });
  }

  markDown(): void {
    this.up = false;
  }

  markUp(): void {
    this.up = true;
    this.answered = true;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

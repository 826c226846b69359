/**
 * A keep-alive HTTP/1.1 connection pool to one upstream origin, written for the relay's hot path:
 * a request is written to an idle connection at once, in one write, and the answer is read with
 * ResponseParser straight from the socket's reads. (A general client such as undici defers the write
 * on a reused connection to a later turn of the event loop and re-parses through its own layers;
 * on a 2-core machine relaying thousands of token chunks a second both cost what the gateway is
 * allowed to add.) One request per connection at a time, no pipelining; abort destroys the
 * connection, which is how a server learns that the client left.
 */
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { ResponseParser, type ResponseEvents } from './response-parser.js';

export interface UpstreamRequest {
  method: 'GET' | 'POST' | 'HEAD';
  path: string;
  /** Lower-case names; host and content-length are added. Pass the same object each time (its text is cached). */
  headers: Record<string, string>;
  body?: string | Buffer;
}

/** Handed back by request(): stops or throttles the exchange. */
export interface UpstreamControl {
  abort(reason: Error): void;
  pause(): void;
  resume(): void;
  readonly aborted: boolean;
}

/** Receives one exchange's events; each request ends with exactly one of onEnd or onError. */
export interface UpstreamHandler {
  onStart(status: number, headers: Record<string, string>): void;
  /** `framed`, `more`: the same bytes as one whole chunk frame as the upstream sent it; more bytes of the read follow (see ResponseParser). */
  onData(data: Buffer, framed: Buffer | undefined, more: boolean): void;
  onEnd(): void;
  onError(err: Error): void;
}

export interface Http1PoolOptions {
  /** Cap on open connections (default: unlimited, one per concurrent request); the excess waits in FIFO order. */
  connections?: number;
  /** Idle connections are closed after this long (or sooner when the server's Keep-Alive header says so). */
  keepAliveMs: number;
  connectTimeoutMs?: number;
}

/** A transport failure with a stable code (node's own codes, e.g. ECONNREFUSED, pass through unchanged). */
export class UpstreamError extends Error {
  constructor(message: string, readonly code: string, options?: ErrorOptions) {
    super(message, options);
  }
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const SWEEP_MS = 1_000;

class Call implements UpstreamControl, ResponseEvents {
  conn: Connection | undefined;
  aborted = false;
  /** Sent again on a fresh connection after a reused one closed without answering. */
  retried = false;
  private finished = false;
  private paused = false;
  private parser: ResponseParser;

  constructor(private readonly pool: Http1Pool, readonly request: UpstreamRequest, private readonly handler: UpstreamHandler) {
    this.parser = new ResponseParser(this, request.method === 'HEAD');
  }

  /** The connection is ours: send the request. */
  attach(conn: Connection): void {
    this.conn = conn;
    if (this.paused) conn.socket.pause();
    this.pool.writeRequest(conn.socket, this.request);
  }

  get answered(): boolean {
    return this.parser.hasStarted;
  }

  read(bytes: Buffer): void {
    try {
      this.parser.push(bytes);
    } catch (err) {
      this.conn?.socket.destroy();
      // Bytes after a complete response: the answer stands, the connection (destroyed) does not.
      if (!this.parser.done) return this.fail(err as Error);
    }
    if (this.parser.done && !this.finished) this.succeed();
  }

  /** The connection closed under this call. */
  closed(cause: Error | undefined): void {
    if (this.finished) return;
    try {
      this.parser.end();
    } catch (err) {
      const code = (cause as { code?: string } | undefined)?.code ?? 'UPSTREAM_CLOSED';
      // A connection that failed before any answer (refused, reset, timed out) is described by its own error.
      const message = cause && !this.answered ? cause.message : cause ? `${(err as Error).message}: ${cause.message}` : (err as Error).message;
      this.fail(new UpstreamError(message, code, { cause }));
      return;
    }
    this.succeed();
  }

  fail(err: Error): void {
    if (this.finished) return;
    this.finished = true;
    if (this.conn?.call === this) this.conn.call = undefined;
    this.conn = undefined;
    this.handler.onError(err);
  }

  private succeed(): void {
    this.finished = true;
    const conn = this.conn;
    this.conn = undefined;
    if (conn) this.pool.release(conn, this.parser.keepAlive);
    this.handler.onEnd();
  }

  onHead(status: number, headers: Record<string, string>): void {
    if (this.conn) this.conn.applyKeepAliveHint(headers['keep-alive']);
    if (!this.aborted) this.handler.onStart(status, headers);
  }

  onBody(data: Buffer, framed: Buffer | undefined, more: boolean): void {
    if (!this.aborted) this.handler.onData(data, framed, more);
  }

  onComplete(): void {
    // Handled after the read that completed the response (read()), so that bytes after it are seen first.
  }

  abort(reason: Error): void {
    if (this.finished || this.aborted) return;
    this.aborted = true;
    const conn = this.conn;
    if (conn) {
      conn.call = undefined;
      conn.socket.destroy();
    } else this.pool.dequeue(this);
    this.fail(reason);
  }

  pause(): void {
    this.paused = true;
    this.conn?.socket.pause();
  }

  resume(): void {
    this.paused = false;
    this.conn?.socket.resume();
  }
}

class Connection {
  call: Call | undefined;
  idleSince = 0;
  served = 0;
  keepAliveMs: number;
  private error: Error | undefined;

  constructor(private readonly pool: Http1Pool, readonly socket: Socket, keepAliveMs: number) {
    this.keepAliveMs = keepAliveMs;
    socket.on('data', (bytes: Buffer) => {
      if (this.call) this.call.read(bytes);
      // Bytes nobody asked for: the connection's state is unknown, so it goes.
      else socket.destroy();
    });
    socket.on('error', (err) => (this.error = err));
    socket.on('close', () => this.pool.closed(this, this.error));
  }

  /** `Keep-Alive: timeout=N`: the server closes idle connections after N s, so stop reusing them a second before. */
  applyKeepAliveHint(value: string | undefined): void {
    if (!value) return;
    const seconds = /timeout=(\d+)/i.exec(value)?.[1];
    if (seconds !== undefined) this.keepAliveMs = Math.min(this.keepAliveMs, Math.max(0, Number(seconds) * 1000 - 1000));
  }
}

export class Http1Pool {
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private readonly queue: Call[] = [];
  private open = 0;
  private closing = false;
  private readonly sweeper: NodeJS.Timeout;
  private readonly host: string;
  private readonly port: number;
  private readonly tls: boolean;
  private readonly hostHeader: string;
  private readonly heads = new WeakMap<Record<string, string>, string>();

  constructor(readonly origin: string, private readonly opts: Http1PoolOptions) {
    const url = new URL(origin);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`upstream '${origin}' is not http or https`);
    this.tls = url.protocol === 'https:';
    this.host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    this.port = Number(url.port) || (this.tls ? 443 : 80);
    this.hostHeader = url.host;
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  /** Connections open now (busy or idle). */
  get connections(): number {
    return this.open;
  }

  request(request: UpstreamRequest, handler: UpstreamHandler): UpstreamControl {
    const call = new Call(this, request, handler);
    if (this.closing) {
      call.fail(new UpstreamError(`connection pool to ${this.origin} is closed`, 'UPSTREAM_CLOSED'));
      return call;
    }
    this.assign(call, false);
    return call;
  }

  private assign(call: Call, fresh: boolean): void {
    const conn = fresh ? undefined : this.idle.pop();
    if (conn) this.run(conn, call);
    else if (this.opts.connections === undefined || this.open < this.opts.connections) this.connect(call);
    else this.queue.push(call);
  }

  private run(conn: Connection, call: Call): void {
    conn.call = call;
    conn.served++;
    call.attach(conn);
  }

  private connect(call: Call): void {
    this.open++;
    const timeout = this.opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const socket = this.tls
      ? tlsConnect({ host: this.host, port: this.port, servername: isIP(this.host) ? undefined : this.host, ALPNProtocols: ['http/1.1'] })
      : netConnect({ host: this.host, port: this.port, noDelay: true });
    const conn = new Connection(this, socket, this.opts.keepAliveMs);
    this.all.add(conn);
    conn.call = call;
    call.conn = conn;
    socket.setTimeout(timeout, () => socket.destroy(new UpstreamError(`connect to ${this.origin} timed out after ${timeout} ms`, 'UPSTREAM_CONNECT_TIMEOUT')));
    socket.once(this.tls ? 'secureConnect' : 'connect', () => {
      socket.setTimeout(0);
      if (this.tls) socket.setNoDelay(true);
      if (conn.call === call) this.run(conn, call);
    });
  }

  writeRequest(socket: Socket, request: UpstreamRequest): void {
    let head = this.heads.get(request.headers);
    if (head === undefined) {
      head = `host: ${this.hostHeader}\r\n`;
      for (const name in request.headers) head += `${name}: ${request.headers[name]}\r\n`;
      this.heads.set(request.headers, head);
    }
    const start = `${request.method} ${request.path} HTTP/1.1\r\n${head}`;
    const body = request.body;
    if (body === undefined) socket.write(`${start}\r\n`, 'latin1');
    else if (typeof body === 'string') socket.write(`${start}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    else {
      socket.cork();
      socket.write(`${start}content-length: ${body.length}\r\n\r\n`, 'latin1');
      socket.write(body);
      socket.uncork();
    }
  }

  /** A response ended: the connection serves the next queued request, waits idle, or closes. */
  release(conn: Connection, reusable: boolean): void {
    conn.call = undefined;
    if (!reusable || this.closing || conn.socket.destroyed || conn.keepAliveMs === 0) {
      conn.socket.destroy();
      return;
    }
    const next = this.queue.shift();
    if (next) {
      this.run(conn, next);
      return;
    }
    conn.idleSince = performance.now();
    this.idle.push(conn);
  }

  closed(conn: Connection, error: Error | undefined): void {
    this.open--;
    this.all.delete(conn);
    const at = this.idle.indexOf(conn);
    if (at !== -1) this.idle.splice(at, 1);
    const call = conn.call;
    conn.call = undefined;
    if (call) {
      // A server may close an idle keep-alive connection just as a request is written to it; the
      // request never reached it, so it goes once more on a new connection.
      if (conn.served > 1 && !call.answered && !call.retried && !this.closing) {
        call.retried = true;
        call.conn = undefined;
        this.assign(call, true);
      } else call.closed(error);
    }
    // A connection slot is free: the oldest waiting request takes it.
    if (this.queue.length > 0 && !this.closing && (this.opts.connections === undefined || this.open < this.opts.connections)) this.connect(this.queue.shift()!);
  }

  dequeue(call: Call): void {
    const at = this.queue.indexOf(call);
    if (at !== -1) this.queue.splice(at, 1);
  }

  private sweep(): void {
    const now = performance.now();
    for (const conn of [...this.idle]) if (now - conn.idleSince >= conn.keepAliveMs) conn.socket.destroy();
  }

  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.sweeper);
    for (const call of this.queue.splice(0)) call.fail(new UpstreamError(`connection pool to ${this.origin} is closed`, 'UPSTREAM_CLOSED'));
    this.idle.length = 0;
    await Promise.all(
      [...this.all].map((conn) => new Promise<void>((resolve) => {
        if (conn.socket.closed) return resolve();
        conn.socket.once('close', () => resolve());
        conn.socket.destroy();
      })),
    );
  }
}

/**
 * The hand-written keep-alive HTTP/1.1 transport to one upstream origin, written for the relay's
 * hot path: a request is written to an idle connection at once, in one write, and the answer is
 * read with ResponseParser straight from the socket's reads. One request per connection at a time,
 * no pipelining; abort destroys the connection, which is how a server learns that the client left.
 * It never re-sends a request: a reused connection that closes before any answer byte fails with
 * the replayable `stale_connection`, and the exchange decides the one retry.
 */
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { ResponseParseError, TransportError, socketFailure } from './errors.js';
import { assertRequestHeaders } from './request-headers.js';
import { ResponseParser, type ResponseEvents } from './response-parser.js';
import type { ResponseHeaders, TransportControl, TransportHandler, TransportOptions, TransportRequest, UpstreamTransport } from './types.js';

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const SWEEP_MS = 1_000;

class Call implements TransportControl, ResponseEvents {
  conn: Connection | undefined;
  aborted = false;
  private finished = false;
  private paused = false;
  private readonly parser: ResponseParser;

  constructor(private readonly transport: Http1Transport, readonly request: TransportRequest, private readonly handler: TransportHandler) {
    this.parser = new ResponseParser(this, request.method === 'HEAD');
  }

  /** The connection is ours: send the request. */
  attach(conn: Connection): void {
    this.conn = conn;
    if (this.paused) conn.socket.pause();
    this.transport.writeRequest(conn.socket, this.request);
  }

  get answered(): boolean {
    return this.parser.hasStarted;
  }

  read(bytes: Buffer): void {
    try {
      this.parser.push(bytes);
    } catch (err) {
      // Only the parser's own errors are the upstream's fault; anything else is a bug and propagates.
      if (!(err instanceof ResponseParseError)) throw err;
      this.conn?.socket.destroy();
      // Bytes after a complete response: the answer stands, the connection (destroyed) does not.
      if (!this.parser.done) return this.fail(err);
    }
    if (this.parser.done && !this.finished) this.succeed();
  }

  /** The connection closed under this call. */
  closed(conn: Connection, cause: Error | undefined): void {
    if (this.finished) return;
    try {
      this.parser.end();
    } catch (err) {
      if (!(err instanceof ResponseParseError)) throw err;
      this.fail(socketFailure(cause, { connected: conn.connected, answered: this.answered, reused: conn.served > 1 }, err.message));
      return;
    }
    this.succeed();
  }

  fail(err: TransportError): void {
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
    if (conn) this.transport.release(conn, this.parser.keepAlive);
    this.handler.onEnd();
  }

  onHead(status: number, headers: ResponseHeaders): void {
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
    } else this.transport.dequeue(this);
    this.finished = true;
    this.conn = undefined;
    this.handler.onError(reason instanceof TransportError ? reason : new TransportError('transport_closed', reason.message, { cause: reason }));
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
  connected = false;
  keepAliveMs: number;
  private error: Error | undefined;

  constructor(private readonly transport: Http1Transport, readonly socket: Socket, keepAliveMs: number) {
    this.keepAliveMs = keepAliveMs;
    socket.on('data', (bytes: Buffer) => {
      if (this.call) this.call.read(bytes);
      // Bytes nobody asked for: the connection's state is unknown, so it goes.
      else socket.destroy();
    });
    socket.on('error', (err) => (this.error = err));
    socket.on('close', () => this.transport.closed(this, this.error));
  }

  /** `Keep-Alive: timeout=N`: the server closes idle connections after N s, so stop reusing them a second before. */
  applyKeepAliveHint(value: string | undefined): void {
    if (!value) return;
    const seconds = /timeout=(\d+)/i.exec(value)?.[1];
    if (seconds !== undefined) this.keepAliveMs = Math.min(this.keepAliveMs, Math.max(0, Number(seconds) * 1000 - 1000));
  }

  /**
   * The idle-socket check before reuse (as undici does since its keep-alive advisory): a socket that
   * the server half-closed, that errored, that holds unread bytes or outlived its keep-alive time is
   * not written to.
   */
  reusable(now: number): boolean {
    const s = this.socket;
    return !s.destroyed && s.writable && !s.readableEnded && s.readableLength === 0 && this.error === undefined && now - this.idleSince < this.keepAliveMs;
  }
}

export class Http1Transport implements UpstreamTransport {
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
  private readonly heads = new WeakMap<object, string>();

  constructor(readonly origin: string, private readonly opts: TransportOptions) {
    const url = new URL(origin);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`upstream '${origin}' is not http or https`);
    this.tls = url.protocol === 'https:';
    this.host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    this.port = Number(url.port) || (this.tls ? 443 : 80);
    this.hostHeader = url.host;
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  get connections(): number {
    return this.open;
  }

  request(request: TransportRequest, handler: TransportHandler): TransportControl {
    const call = new Call(this, request, handler);
    if (this.closing) {
      call.fail(new TransportError('transport_closed', 'the connection pool is closed'));
      return call;
    }
    try {
      assertRequestHeaders(request.headers, request.requestHeaders);
    } catch (err) {
      call.fail(err as TransportError);
      return call;
    }
    this.assign(call);
    return call;
  }

  private assign(call: Call): void {
    const now = performance.now();
    let conn = this.idle.pop();
    while (conn && !conn.reusable(now)) {
      conn.socket.destroy();
      conn = this.idle.pop();
    }
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
    socket.setTimeout(timeout, () => socket.destroy(new TransportError('connect_timeout', `connect timed out after ${timeout} ms`)));
    socket.once(this.tls ? 'secureConnect' : 'connect', () => {
      socket.setTimeout(0);
      conn.connected = true;
      if (this.tls) socket.setNoDelay(true);
      if (conn.call === call) this.run(conn, call);
    });
  }

  writeRequest(socket: Socket, request: TransportRequest): void {
    let head = this.heads.get(request.headers);
    if (head === undefined) {
      head = `host: ${this.hostHeader}\r\n`;
      for (const name in request.headers) head += `${name}: ${request.headers[name]}\r\n`;
      this.heads.set(request.headers, head);
    }
    const own = request.requestHeaders;
    if (own) for (const name in own) head += `${name}: ${own[name]}\r\n`;
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
    conn.idleSince = performance.now();
    const next = this.queue.shift();
    if (next) {
      this.run(conn, next);
      return;
    }
    this.idle.push(conn);
  }

  closed(conn: Connection, error: Error | undefined): void {
    this.open--;
    this.all.delete(conn);
    const at = this.idle.indexOf(conn);
    if (at !== -1) this.idle.splice(at, 1);
    const call = conn.call;
    conn.call = undefined;
    if (call) call.closed(conn, error);
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
    for (const call of this.queue.splice(0)) call.fail(new TransportError('transport_closed', 'the connection pool is closed'));
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

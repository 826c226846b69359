/**
 * An incremental HTTP/1.1 response parser for the upstream relay: status line and headers, then a
 * body framed by content-length, chunked transfer coding, or the end of the connection. Chunk
 * payloads are handed on as slices of the bytes read (no copies), and a whole chunk frame found in
 * one read is handed on with its framing too, so a relay whose client side is also chunked can
 * forward the frame as it came.
 */

export interface ResponseEvents {
  onHead(status: number, headers: Record<string, string>): void;
  /**
   * `framed`: the same bytes as one whole chunk frame (size line, data, CRLF), when the read held it
   * whole. `more`: further bytes of the same read follow (more frames, or the end of the body).
   */
  onBody(data: Buffer, framed: Buffer | undefined, more: boolean): void;
  onComplete(): void;
}

/** The upstream broke the protocol; the connection cannot be trusted further. */
export class ResponseParseError extends Error {
  readonly code = 'UPSTREAM_BAD_RESPONSE';
}

/** Heads larger than this are refused (no LLM server sends anything near it). */
const MAX_HEAD_BYTES = 64 * 1024;
const CR = 0x0d;
const LF = 0x0a;

const enum State {
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  UntilClose,
  Done,
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

export class ResponseParser {
  private state = State.Head;
  /** Bytes of an unfinished head or line carried over from the previous read. */
  private carry: Buffer | undefined;
  /** Body bytes left (content-length) or bytes left in the current chunk. */
  private remaining = 0;
  private reusable = false;
  private started = false;

  /** `noBody`: the request was HEAD, so no answer carries a body. */
  constructor(private readonly events: ResponseEvents, private readonly noBody = false) {}

  /** Any byte of a response arrived. */
  get hasStarted(): boolean {
    return this.started;
  }

  get done(): boolean {
    return this.state === State.Done;
  }

  /** The connection may carry another request after this response. */
  get keepAlive(): boolean {
    return this.reusable;
  }

  /** Feeds the next bytes read from the connection. Throws ResponseParseError on a protocol violation. */
  push(buf: Buffer): void {
    if (buf.length === 0) return;
    this.started = true;
    let at = 0;
    while (at < buf.length) {
      switch (this.state) {
        case State.Head:
          at = this.readHead(buf, at);
          break;
        case State.Length:
          at = this.readCounted(buf, at, State.Done);
          if (this.done) this.complete();
          break;
        case State.ChunkSize:
          at = this.readChunkSize(buf, at);
          break;
        case State.ChunkData:
          at = this.readCounted(buf, at, State.ChunkDataEnd);
          break;
        case State.ChunkDataEnd:
          at = this.readLine(buf, at, (line) => {
            if (line.length !== 0) throw new ResponseParseError('chunk data longer than its declared size');
            this.state = State.ChunkSize;
          });
          break;
        case State.Trailers:
          at = this.readLine(buf, at, (line) => {
            if (line.length === 0) {
              this.state = State.Done;
              this.complete();
            }
          });
          break;
        case State.UntilClose:
          this.events.onBody(at === 0 ? buf : buf.subarray(at), undefined, false);
          at = buf.length;
          break;
        case State.Done:
          // Bytes after a complete response, with no request asking for them.
          this.reusable = false;
          throw new ResponseParseError('upstream sent bytes after the end of the response');
      }
    }
  }

  /** The connection ended: completes a body that runs to the close; throws when the response is incomplete. */
  end(): void {
    if (this.state === State.Done) return;
    if (this.state === State.UntilClose) {
      this.state = State.Done;
      this.events.onComplete();
      return;
    }
    throw new ResponseParseError(this.started ? 'upstream closed the connection before the end of the response' : 'upstream closed the connection without answering');
  }

  /** Hands on up to `remaining` body bytes; moves to `next` when they are all read. */
  private readCounted(buf: Buffer, at: number, next: State): number {
    const end = at + Math.min(this.remaining, buf.length - at);
    this.remaining -= end - at;
    if (this.remaining === 0) this.state = next;
    this.events.onBody(buf.subarray(at, end), undefined, end < buf.length);
    return end;
  }

  private complete(): void {
    this.events.onComplete();
  }

  private readHead(buf: Buffer, at: number): number {
    const bytes = this.carry ? Buffer.concat([this.carry, buf.subarray(at)]) : at === 0 ? buf : buf.subarray(at);
    const consumedBefore = this.carry ? this.carry.length : 0;
    const end = bytes.indexOf('\r\n\r\n', 0, 'latin1');
    if (end === -1) {
      if (bytes.length > MAX_HEAD_BYTES) throw new ResponseParseError(`response head larger than ${MAX_HEAD_BYTES} bytes`);
      this.carry = Buffer.from(bytes);
      return buf.length;
    }
    this.carry = undefined;
    this.parseHead(bytes.toString('latin1', 0, end));
    // Position in `buf` just after the head.
    return at + end + 4 - consumedBefore;
  }

  private parseHead(text: string): void {
    const lines = text.split('\r\n');
    const statusLine = /^HTTP\/1\.([01]) (\d{3})(?: .*)?$/.exec(lines[0]);
    if (!statusLine) throw new ResponseParseError(`not an HTTP/1.x status line: '${lines[0].slice(0, 80)}'`);
    const minor = statusLine[1];
    const status = Number(statusLine[2]);
    const headers: Record<string, string> = {};
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i];
      const colon = line.indexOf(':');
      if (colon <= 0) throw new ResponseParseError(`malformed header line: '${line.slice(0, 80)}'`);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    if (status < 200) {
      // 100 Continue, 103 Early Hints: the real answer follows.
      this.state = State.Head;
      return;
    }
    const connection = (headers.connection ?? '').toLowerCase();
    this.reusable = minor === '1' ? !connection.includes('close') : connection.includes('keep-alive');
    const transfer = (headers['transfer-encoding'] ?? '').toLowerCase();
    const length = headers['content-length'];
    if (this.noBody || status === 204 || status === 304) this.state = State.Done;
    else if (transfer.includes('chunked')) this.state = State.ChunkSize;
    else if (length !== undefined) {
      if (!/^\d+$/.test(length)) throw new ResponseParseError(`bad content-length '${length}'`);
      this.remaining = Number(length);
      this.state = this.remaining === 0 ? State.Done : State.Length;
    } else {
      this.state = State.UntilClose;
      this.reusable = false;
    }
    this.events.onHead(status, headers);
    if (this.state === State.Done) this.complete();
  }

  /**
   * At a chunk boundary. The usual case, a read that holds whole frames, is parsed in place and each
   * frame handed on with its framing; anything split across reads goes through the line carry.
   */
  private readChunkSize(buf: Buffer, at: number): number {
    if (this.carry) return this.readLine(buf, at, (line) => this.startChunk(line.toString('latin1')));
    let i = at;
    let size = 0;
    let digits = 0;
    for (; i < buf.length; i++) {
      const v = hexValue(buf[i]);
      if (v === -1) break;
      size = size * 16 + v;
      digits++;
    }
    // Chunk extensions (";name=value") are allowed and ignored.
    const lineEnd = i < buf.length && (buf[i] === CR || buf[i] === 0x3b) ? buf.indexOf(LF, i) : -1;
    if (digits === 0 || lineEnd === -1 || buf[lineEnd - 1] !== CR || digits > 12) {
      return this.readLine(buf, at, (line) => this.startChunk(line.toString('latin1')));
    }
    const dataStart = lineEnd + 1;
    if (size === 0) {
      this.state = State.Trailers;
      return dataStart;
    }
    const frameEnd = dataStart + size + 2;
    if (frameEnd <= buf.length && buf[frameEnd - 2] === CR && buf[frameEnd - 1] === LF) {
      this.events.onBody(buf.subarray(dataStart, dataStart + size), buf.subarray(at, frameEnd), frameEnd < buf.length);
      return frameEnd;
    }
    this.remaining = size;
    this.state = State.ChunkData;
    return dataStart;
  }

  private startChunk(line: string): void {
    const match = /^([0-9a-fA-F]{1,12})(?:;.*)?$/.exec(line.trim());
    if (!match) throw new ResponseParseError(`bad chunk size line '${line.slice(0, 40)}'`);
    const size = parseInt(match[1], 16);
    if (size === 0) this.state = State.Trailers;
    else {
      this.remaining = size;
      this.state = State.ChunkData;
    }
  }

  /** Reads one CRLF-terminated line (possibly across reads) and passes it, without the CRLF, to `use`. */
  private readLine(buf: Buffer, at: number, use: (line: Buffer) => void): number {
    const lf = buf.indexOf(LF, at);
    if (lf === -1) {
      const part = buf.subarray(at);
      this.carry = this.carry ? Buffer.concat([this.carry, part]) : Buffer.from(part);
      if (this.carry.length > MAX_HEAD_BYTES) throw new ResponseParseError('line too long in the response body framing');
      return buf.length;
    }
    const line = this.carry ? Buffer.concat([this.carry, buf.subarray(at, lf + 1)]) : buf.subarray(at, lf + 1);
    this.carry = undefined;
    if (line.length < 2 || line[line.length - 2] !== CR) throw new ResponseParseError('bare LF in the response body framing');
    use(line.subarray(0, line.length - 2));
    return lf + 1;
  }
}

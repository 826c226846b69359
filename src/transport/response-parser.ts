/**
 * An incremental HTTP/1.1 response parser for the upstream relay, as strict as llhttp (Node's own
 * parser) in its default mode: status line and headers per RFC 9112 (a token before the colon and
 * no whitespace, no CTL or NUL in a value, CRLF only, no obs-fold), then a body framed by
 * content-length, chunked transfer coding, or the end of the connection. Where it differs from
 * llhttp it is stricter, on purpose: status codes outside 100-599 and versions other than
 * HTTP/1.0 and 1.1 are refused (docs/transport.md lists every case; test/transport/differential
 * checks the rest against llhttp).
 *
 * Chunk payloads are handed on as slices of the bytes read (no copies), and a whole canonical chunk
 * frame found in one read is handed on with its framing too, so a relay whose client side is also
 * chunked can forward the frame as it came. A chunk-size line is checked by the same code whether it
 * came in one read or several, and the head limit is checked on every read.
 */
import { ResponseParseError } from './errors.js';
import type { ResponseHeaders } from './types.js';

export interface ResponseEvents {
  onHead(status: number, headers: ResponseHeaders): void;
  /**
   * `framed`: the same bytes as one whole canonical chunk frame (size line, data, CRLF), when the
   * read held it whole. `more`: further bytes of the same read follow (more frames, or the end of
   * the body).
   */
  onBody(data: Buffer, framed: Buffer | undefined, more: boolean): void;
  onComplete(): void;
}

/** Heads (and trailer sections) larger than this are refused (no LLM server sends anything near it). */
export const MAX_HEAD_BYTES = 64 * 1024;
const CR = 0x0d;
const LF = 0x0a;
const SEMICOLON = 0x3b;
const EQUALS = 0x3d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** A chunk size above this cannot be a real answer (and would lose precision). */
const MAX_CHUNK_SIZE = Number.MAX_SAFE_INTEGER;

const STATUS_LINE = /^HTTP\/1\.([01]) ([0-9]{3})(?: .*)?$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A field value after trimming: HTAB, visible ASCII, SP, obs-text; no CTL, no DEL, no NUL. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** tchar of RFC 9110 as a byte table. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let b = 0x30; b <= 0x39; b++) TCHAR[b] = 1;
for (let b = 0x41; b <= 0x5a; b++) TCHAR[b] = 1;
for (let b = 0x61; b <= 0x7a; b++) TCHAR[b] = 1;

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

/** A chunk-size line's size, and whether the line is canonical (hex digits only, no leading zero). */
interface SizeLine {
  size: number;
  canonical: boolean;
}

/**
 * Parses `buf[start, end)`, a chunk-size line without its CRLF: 1*HEXDIG *( ";" name [ "=" ( *tchar
 * / quoted-string ) ] ), the name a token (empty only before ";" or "="). Throws on anything else
 * (whitespace, CR, junk), as llhttp does.
 */
function parseSizeLine(buf: Buffer, start: number, end: number, out: SizeLine): void {
  let i = start;
  let size = 0;
  for (; i < end; i++) {
    const v = hexValue(buf[i]);
    if (v === -1) break;
    size = size * 16 + v;
    if (size > MAX_CHUNK_SIZE) throw new ResponseParseError('chunk size overflow');
  }
  if (i === start) throw new ResponseParseError('bad chunk size line: no hex digits');
  out.size = size;
  out.canonical = i === end && (buf[start] !== 0x30 || i === start + 1);
  while (i < end) {
    if (buf[i] !== SEMICOLON) throw new ResponseParseError('bad chunk size line: unexpected character');
    i++;
    const nameStart = i;
    while (i < end && TCHAR[buf[i]] === 1) i++;
    // An empty name is refused only at the end of the line (";;a" and ";=v" pass), as llhttp does.
    if (i === nameStart && i === end) throw new ResponseParseError('bad chunk extension name');
    if (i < end && buf[i] === EQUALS) {
      i++;
      if (i < end && buf[i] === QUOTE) {
        i++;
        for (;;) {
          if (i >= end) throw new ResponseParseError('unterminated chunk extension value');
          const b = buf[i];
          if (b === QUOTE) break;
          if (b === BACKSLASH) i++;
          else if ((b < 0x20 && b !== 0x09) || b === 0x7f) throw new ResponseParseError('bad chunk extension value');
          i++;
        }
        i++;
      } else {
        // A token value, possibly empty (";a=" is accepted, as llhttp does).
        while (i < end && TCHAR[buf[i]] === 1) i++;
      }
    }
  }
}

function trimOws(text: string): string {
  let a = 0;
  let b = text.length;
  while (a < b && (text.charCodeAt(a) === 0x20 || text.charCodeAt(a) === 0x09)) a++;
  while (b > a && (text.charCodeAt(b - 1) === 0x20 || text.charCodeAt(b - 1) === 0x09)) b--;
  return a === 0 && b === text.length ? text : text.slice(a, b);
}

/** Parses one field line ("name: value", no CRLF); returns the lower-case name and the trimmed value. */
function fieldLine(line: string): [string, string] {
  const colon = line.indexOf(':');
  const name = colon === -1 ? line : line.slice(0, colon);
  if (colon <= 0 || !TOKEN.test(name)) throw new ResponseParseError(`malformed header line: '${printable(line)}'`);
  const value = trimOws(line.slice(colon + 1));
  if (!FIELD_VALUE.test(value)) throw new ResponseParseError(`invalid character in the value of header '${printable(name)}'`);
  return [name.toLowerCase(), value];
}

/** Up to 60 characters of upstream text for an error message, control bytes escaped. */
function printable(text: string): string {
  return JSON.stringify(text.slice(0, 60)).slice(1, -1);
}

/** The list elements of a comma-separated field value, lower case, empty elements dropped. */
function listTokens(value: string): string[] {
  return value.split(',').map((t) => trimOws(t).toLowerCase()).filter((t) => t !== '');
}

export class ResponseParser {
  private state = State.Head;
  /** Bytes of an unfinished head or line carried over from the previous read. */
  private carry: Buffer | undefined;
  /** Body bytes left (content-length) or bytes left in the current chunk. */
  private remaining = 0;
  private reusable = false;
  private started = false;
  /** Bytes of the trailer section so far (held to the head limit). */
  private trailerBytes = 0;
  /** In ChunkDataEnd: the CR after the data was read. */
  private crSeen = false;
  private readonly sizeLine: SizeLine = { size: 0, canonical: false };

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
          if (this.done) this.events.onComplete();
          break;
        case State.ChunkSize:
          at = this.readChunkSize(buf, at);
          break;
        case State.ChunkData:
          at = this.readCounted(buf, at, State.ChunkDataEnd);
          break;
        case State.ChunkDataEnd:
          // Exactly CRLF after the data, byte by byte so that a split CRLF is the same case.
          if (buf[at] !== (this.crSeen ? LF : CR)) throw new ResponseParseError('chunk data longer than its declared size');
          at++;
          if (this.crSeen) this.state = State.ChunkSize;
          this.crSeen = !this.crSeen;
          break;
        case State.Trailers:
          at = this.readLine(buf, at, (line, start, end) => this.trailer(line, start, end));
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

  private readHead(buf: Buffer, at: number): number {
    const carried = this.carry ? this.carry.length : 0;
    const bytes = this.carry ? Buffer.concat([this.carry, buf.subarray(at)]) : at === 0 ? buf : buf.subarray(at);
    // Empty lines (any CR or LF) before a status line are skipped (RFC 9112 §2.2, as llhttp does).
    let from = 0;
    while (from < bytes.length && (bytes[from] === CR || bytes[from] === LF)) from++;
    const end = bytes.indexOf('\r\n\r\n', from, 'latin1');
    if (end === -1 || end + 4 > MAX_HEAD_BYTES) {
      if (bytes.length > MAX_HEAD_BYTES) throw new ResponseParseError(`response head larger than ${MAX_HEAD_BYTES} bytes`);
      // A bare LF is refused as soon as it is read (the new bytes only; the carry was checked before).
      for (let lf = bytes.indexOf(LF, Math.max(from, carried)); lf !== -1 && from < bytes.length; lf = bytes.indexOf(LF, lf + 1)) {
        if (lf === 0 || bytes[lf - 1] !== CR) throw new ResponseParseError('bare LF in the response head');
      }
      this.carry = from === bytes.length ? undefined : Buffer.from(bytes.subarray(from));
      return buf.length;
    }
    this.carry = undefined;
    this.parseHead(bytes.toString('latin1', from, end));
    // Position in `buf` just after the head.
    return at + end + 4 - carried;
  }

  private parseHead(text: string): void {
    const lines = text.split('\r\n');
    for (const line of lines) {
      if (line.includes('\r') || line.includes('\n')) throw new ResponseParseError('bare CR or LF in the response head');
    }
    const statusLine = STATUS_LINE.exec(lines[0]);
    if (!statusLine) throw new ResponseParseError(`not an HTTP/1.x status line: '${printable(lines[0])}'`);
    const minor = statusLine[1];
    const status = Number(statusLine[2]);
    if (status < 100 || status > 599) throw new ResponseParseError(`status code ${statusLine[2]} is outside 100-599`);
    if (status === 101) throw new ResponseParseError('101 Switching Protocols, but no upgrade was asked for');
    const headers: Record<string, string> = Object.create(null) as Record<string, string>;
    let lengths = 0;
    /** The raw value of the last transfer-encoding line (its trailing tabs matter, see below). */
    let lastTransfer = '';
    for (let i = 1; i < lines.length; i++) {
      const [name, value] = fieldLine(lines[i]);
      if (name === 'content-length') {
        if (++lengths > 1) throw new ResponseParseError('duplicate content-length');
        // Digits, then spaces only (a tab after them is refused, as llhttp does).
        if (!/^[0-9]+ *$/.test(lines[i].slice(lines[i].indexOf(':') + 1).replace(/^[ \t]+/, ''))) throw new ResponseParseError(`bad content-length '${printable(value)}'`);
      }
      if (name === 'transfer-encoding') lastTransfer = lines[i].slice(lines[i].indexOf(':') + 1);
      const before = headers[name];
      headers[name] = before === undefined ? value : `${before}, ${value}`;
    }
    if (status < 200) {
      // 100 Continue, 102 Processing, 103 Early Hints: the real answer follows.
      this.state = State.Head;
      return;
    }
    const connection = headers.connection === undefined ? [] : listTokens(headers.connection);
    this.reusable = minor === '1' ? !connection.includes('close') : connection.includes('keep-alive');
    const transfer = headers['transfer-encoding'];
    const length = headers['content-length'];
    if (transfer !== undefined && length !== undefined) throw new ResponseParseError('content-length together with transfer-encoding');
    let contentLength = -1;
    if (length !== undefined) {
      contentLength = Number(length);
      if (contentLength > Number.MAX_SAFE_INTEGER) throw new ResponseParseError('content-length overflow');
    }
    if (this.noBody || status === 204 || status === 304) this.state = State.Done;
    else if (transfer !== undefined) {
      // Chunked only when it is the final coding; otherwise the body runs to the close (RFC 9112 §6.3).
      // The final coding is matched exactly: "chunked" followed by spaces only (a tab after it makes
      // it another token, as llhttp reads it).
      const final = lastTransfer.slice(lastTransfer.lastIndexOf(',') + 1).replace(/^[ \t]+/, '').replace(/ +$/, '');
      if (final.toLowerCase() === 'chunked') this.state = State.ChunkSize;
      else {
        this.state = State.UntilClose;
        this.reusable = false;
      }
    } else if (contentLength >= 0) {
      this.remaining = contentLength;
      this.state = contentLength === 0 ? State.Done : State.Length;
    } else {
      this.state = State.UntilClose;
      this.reusable = false;
    }
    this.events.onHead(status, headers);
    if (this.state === State.Done) this.events.onComplete();
  }

  /**
   * At a chunk boundary. The usual case, a read that holds whole frames, is parsed in place and each
   * canonical frame handed on with its framing; a size line split across reads goes through the
   * line carry. Both paths check the line with parseSizeLine.
   */
  private readChunkSize(buf: Buffer, at: number): number {
    if (this.carry) return this.readLine(buf, at, (line, start, end) => this.startChunk(line, start, end));
    const lf = buf.indexOf(LF, at);
    if (lf === -1) return this.readLine(buf, at, (line, start, end) => this.startChunk(line, start, end));
    if (lf === at || buf[lf - 1] !== CR) throw new ResponseParseError('bare LF in the response body framing');
    if (lf - at > MAX_HEAD_BYTES) throw new ResponseParseError('chunk size line too long');
    const sizeLine = this.sizeLine;
    parseSizeLine(buf, at, lf - 1, sizeLine);
    const dataStart = lf + 1;
    const size = sizeLine.size;
    if (size === 0) {
      this.state = State.Trailers;
      this.trailerBytes = 0;
      return dataStart;
    }
    const frameEnd = dataStart + size + 2;
    if (frameEnd <= buf.length && buf[frameEnd - 2] === CR && buf[frameEnd - 1] === LF) {
      this.events.onBody(buf.subarray(dataStart, dataStart + size), sizeLine.canonical ? buf.subarray(at, frameEnd) : undefined, frameEnd < buf.length);
      return frameEnd;
    }
    this.remaining = size;
    this.state = State.ChunkData;
    return dataStart;
  }

  private startChunk(line: Buffer, start: number, end: number): void {
    parseSizeLine(line, start, end, this.sizeLine);
    const size = this.sizeLine.size;
    if (size === 0) {
      this.state = State.Trailers;
      this.trailerBytes = 0;
    } else {
      this.remaining = size;
      this.state = State.ChunkData;
    }
  }

  private trailer(line: Buffer, start: number, end: number): void {
    if (end === start) {
      this.state = State.Done;
      this.events.onComplete();
      return;
    }
    this.trailerBytes += end - start + 2;
    if (this.trailerBytes > MAX_HEAD_BYTES) throw new ResponseParseError(`trailer section larger than ${MAX_HEAD_BYTES} bytes`);
    const text = line.toString('latin1', start, end);
    if (text.includes('\r')) throw new ResponseParseError('bare CR in a trailer');
    if (fieldLine(text)[0] === 'content-length') throw new ResponseParseError('content-length in the trailers of a chunked answer');
  }

  /**
   * Reads one CRLF-terminated line (possibly across reads) and passes it to `use` as a buffer and the
   * range of the line without its CRLF. A bare LF is refused.
   */
  private readLine(buf: Buffer, at: number, use: (line: Buffer, start: number, end: number) => void): number {
    const lf = buf.indexOf(LF, at);
    if (lf === -1) {
      const part = buf.subarray(at);
      this.carry = this.carry ? Buffer.concat([this.carry, part]) : Buffer.from(part);
      if (this.carry.length > MAX_HEAD_BYTES) throw new ResponseParseError('line too long in the response body framing');
      return buf.length;
    }
    const line = this.carry ? Buffer.concat([this.carry, buf.subarray(at, lf + 1)]) : buf;
    const start = this.carry ? 0 : at;
    const end = this.carry ? line.length - 1 : lf;
    this.carry = undefined;
    if (end === start || line[end - 1] !== CR) throw new ResponseParseError('bare LF in the response body framing');
    use(line, start, end - 1);
    return lf + 1;
  }
}

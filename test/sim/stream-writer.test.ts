import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { Agent, request as undiciRequest } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RealClock, startSimServer, type SimServer } from '../../src/sim/index.js';

// Streams written one chunk per socket write (src/sim/stream-writer.ts) must stay valid HTTP/1.1
// for every client, keep the connection usable, and still cancel the sequence on a disconnect.
const PROFILE = 'h100-80gb:llama-3.2-1b:bf16:tp1';
const MODEL = 'sim-writer';
let server: SimServer;

beforeAll(async () => {
  server = await startSimServer({ profile: PROFILE, port: 0, seed: 5, modelName: MODEL });
});

afterAll(async () => {
  await server.close();
});

function chatBody(maxTokens: number): string {
  return JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: maxTokens, ignore_eos: true, stream: true });
}

function rawRequest(body: string, version = '1.1'): string {
  return `POST /v1/chat/completions HTTP/${version}\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/**
 * Strict HTTP/1.1 response reader: status line, headers, then the chunked body chunk by chunk
 * (hex size, CRLF, exactly that many bytes, CRLF) up to the zero-size chunk. Returns the chunks'
 * payloads and any bytes after the response.
 */
function parseChunkedResponse(bytes: Buffer): { status: number; headers: Record<string, string>; chunks: string[]; rest: Buffer } | undefined {
  const headEnd = bytes.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const [statusLine, ...headerLines] = bytes.subarray(0, headEnd).toString('latin1').split('\r\n');
  const headers = Object.fromEntries(headerLines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  let at = headEnd + 4;
  const chunks: string[] = [];
  for (;;) {
    const lineEnd = bytes.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const sizeText = bytes.subarray(at, lineEnd).toString('latin1');
    expect(sizeText).toMatch(/^[0-9a-f]+$/);
    const size = parseInt(sizeText, 16);
    if (size === 0) {
      if (bytes.length < lineEnd + 4) return undefined;
      expect(bytes.subarray(lineEnd + 2, lineEnd + 4).toString('latin1')).toBe('\r\n');
      return { status: Number(statusLine.split(' ')[1]), headers, chunks, rest: bytes.subarray(lineEnd + 4) };
    }
    if (bytes.length < lineEnd + 2 + size + 2) return undefined;
    chunks.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size).toString('utf8'));
    expect(bytes.subarray(lineEnd + 2 + size, lineEnd + 4 + size).toString('latin1')).toBe('\r\n');
    at = lineEnd + 4 + size;
  }
}

/** Writes `text` on a raw socket and collects bytes until `done` says the answer is complete. */
function exchange(socket: Socket, text: string, done: (bytes: Buffer) => boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let bytes = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      bytes = Buffer.concat([bytes, chunk]);
      if (!done(bytes)) return;
      socket.off('data', onData);
      resolve(bytes);
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(text);
  });
}

function openSocket(): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect(server.port, '127.0.0.1', () => resolve(socket));
  });
}

describe('streamed bodies written one chunk per socket write', () => {
  it('frame every event as one valid chunk, end with the zero chunk and keep the connection usable', async () => {
    const socket = await openSocket();
    for (const maxTokens of [7, 3]) {
      const bytes = await exchange(socket, rawRequest(chatBody(maxTokens)), (b) => parseChunkedResponse(b) !== undefined);
      const response = parseChunkedResponse(bytes);
      expect(response?.status).toBe(200);
      expect(response?.headers['transfer-encoding']).toBe('chunked');
      expect(response?.rest.length).toBe(0);
      const chunks = response?.chunks ?? [];
      // The role event, one event per token, then the last chunk node:http frames (finish and [DONE]).
      for (const c of chunks.slice(0, -1)) expect(c).toMatch(/^data: \{.*\}\n\n$/s);
      expect(chunks.slice(1, -1).filter((c) => c.includes('"delta":{"content":'))).toHaveLength(maxTokens);
      expect(chunks.at(-1)).toMatch(/"finish_reason":"length".*data: \[DONE\]\n\n$/s);
    }
    socket.destroy();
  });

  it('answer pipelined requests in order, each complete', async () => {
    const socket = await openSocket();
    const twoDone = (b: Buffer): boolean => {
      const first = parseChunkedResponse(b);
      return first !== undefined && parseChunkedResponse(first.rest) !== undefined;
    };
    const bytes = await exchange(socket, rawRequest(chatBody(4)) + rawRequest(chatBody(2)), twoDone);
    const first = parseChunkedResponse(bytes);
    const second = first && parseChunkedResponse(first.rest);
    expect(first?.chunks.filter((c) => c.includes('"delta":{"content":'))).toHaveLength(4);
    expect(second?.chunks.filter((c) => c.includes('"delta":{"content":'))).toHaveLength(2);
    socket.destroy();
  });

  it('send an HTTP/1.0 client a plain body that ends with the connection', async () => {
    const socket = await openSocket();
    const bytes = await new Promise<Buffer>((resolve) => {
      const parts: Buffer[] = [];
      socket.on('data', (c: Buffer) => parts.push(c));
      socket.on('end', () => resolve(Buffer.concat(parts)));
      socket.write(rawRequest(chatBody(3), '1.0'));
    });
    const text = bytes.toString('utf8');
    expect(text).not.toMatch(/transfer-encoding/i);
    const body = text.slice(text.indexOf('\r\n\r\n') + 4);
    expect(body.split('\n\n').filter((e) => e.includes('"delta":{"content":'))).toHaveLength(3);
    expect(body.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it("are read whole by node's http client", async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpRequest(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve(text));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(chatBody(6));
    });
    expect(body.split('\n\n').filter((e) => e.includes('"delta":{"content":'))).toHaveLength(6);
    expect(body.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('are read whole by undici, twice on one kept-alive connection', async () => {
    const dispatcher = new Agent({ connections: 1 });
    try {
      for (const maxTokens of [5, 2]) {
        const { statusCode, body } = await undiciRequest(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody(maxTokens), dispatcher });
        expect(statusCode).toBe(200);
        const text = await body.text();
        expect(text.split('\n\n').filter((e) => e.includes('"delta":{"content":'))).toHaveLength(maxTokens);
      }
    } finally {
      await dispatcher.close();
    }
  });

  it('still cancel the sequence when the client goes away', async () => {
    const before = server.engine.stats().requestsCancelled;
    const socket = await openSocket();
    await exchange(socket, rawRequest(chatBody(5000)), (b) => b.includes('"delta":{"content":'));
    socket.destroy();
    while (server.engine.stats().requestsCancelled === before) await new Promise((r) => setTimeout(r, 5));
    expect(server.engine.stats().running).toBe(0);
  });
});

describe('real clock', () => {
  it('never runs an event before its time, and never inside the caller', async () => {
    const clock = new RealClock();
    const late: number[] = [];
    let returned = false;
    await Promise.all(
      [0, 0.3, 1, 2.5, 7].map(
        (delay) =>
          new Promise<void>((resolve) => {
            const at = clock.now() + delay;
            clock.schedule(at, () => {
              expect(returned).toBe(true);
              late.push(clock.now() - at);
              resolve();
            });
            returned = true;
          }),
      ),
    );
    for (const l of late) expect(l).toBeGreaterThanOrEqual(0);
  });
});

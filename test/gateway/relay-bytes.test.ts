import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../src/gateway/index.js';
import { startTestOpenAIStub, type TestOpenAIStub } from '../helpers/openai-stub.js';
import { openaiExpert, startTestGateway } from './setup.js';

/** Sends one raw request and reads until the server closes the connection. */
function rawExchange(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let text = '';
    socket.on('data', (bytes) => (text += bytes.toString('latin1')));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
    socket.write(request);
  });
}

/** The payload of a chunked body; fails the test on any framing error. */
function dechunk(body: string): string {
  let out = '';
  let at = 0;
  for (;;) {
    const lineEnd = body.indexOf('\r\n', at);
    const size = parseInt(body.slice(at, lineEnd), 16);
    expect(Number.isNaN(size), `chunk size at ${at}`).toBe(false);
    if (size === 0) {
      expect(body.slice(lineEnd)).toBe('\r\n\r\n');
      return out;
    }
    out += body.slice(lineEnd + 2, lineEnd + 2 + size);
    expect(body.slice(lineEnd + 2 + size, lineEnd + 4 + size)).toBe('\r\n');
    at = lineEnd + 4 + size;
  }
}

describe('the relay on the wire', () => {
  let stub: TestOpenAIStub;
  let gw: RunningGateway;
  const body = JSON.stringify({ model: 'auto', stream: true, messages: [{ role: 'user', content: 'write a python function' }] });

  beforeAll(async () => {
    stub = await startTestOpenAIStub('code', { tokens: 3 });
    gw = await startTestGateway([openaiExpert('code', [stub.url], ['code'])]);
  });
  afterAll(async () => {
    await gw.close();
    await stub.close();
  });

  it('gives an HTTP/1.1 client a valid chunked stream, usage chunk removed, ending in [DONE]', async () => {
    const text = await rawExchange(gw.url, `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
    const split = text.indexOf('\r\n\r\n');
    expect(text.slice(0, split)).toMatch(/transfer-encoding: chunked/i);
    const events = dechunk(text.slice(split + 4)).split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    expect(events.filter((e) => e.includes('"content":"code "'))).toHaveLength(3);
    expect(events.some((e) => e.includes('"usage"'))).toBe(false);
  });

  it('gives an HTTP/1.0 client the same events, unframed, ended by the close', async () => {
    const text = await rawExchange(gw.url, `POST /v1/chat/completions HTTP/1.0\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
    const split = text.indexOf('\r\n\r\n');
    expect(text.slice(0, split)).not.toMatch(/transfer-encoding/i);
    const events = text.slice(split + 4).split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    expect(events.filter((e) => e.includes('"content":"code "'))).toHaveLength(3);
  });
});

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddingCascade, EmbeddingError, RemoteEmbeddingProvider } from '../../../src/classifier/embedding/index.js';
import { LABELS, axisHead, prediction } from './fixtures.js';

type Behaviour = (body: { model: string; input: string[] }, req: IncomingMessage, res: ServerResponse) => void;

let behaviour: Behaviour;
let seen: { path: string; auth: string | undefined; body: { model: string; input: string[]; encoding_format: string } }[] = [];
let server: Server;
let url: string;

const vectorsFor = (texts: string[], dim = 3): number[][] => texts.map((t) => Array.from({ length: dim }, (_, i) => (t.length + i) % 5));
const ok: Behaviour = (body, _req, res) => {
  // Out of order, as the index field allows.
  const data = vectorsFor(body.input).map((embedding, index) => ({ object: 'embedding', index, embedding })).reverse();
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data, model: body.model }));
};

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { model: string; input: string[]; encoding_format: string };
      seen.push({ path: req.url ?? '', auth: req.headers.authorization, body });
      behaviour(body, req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function failure(provider: RemoteEmbeddingProvider, texts = ['a', 'b']): Promise<EmbeddingError> {
  try {
    await provider.embed(texts);
  } catch (err) {
    expect(err).toBeInstanceOf(EmbeddingError);
    return err as EmbeddingError;
  } finally {
    await provider.close();
  }
  throw new Error('expected the call to fail');
}

describe('RemoteEmbeddingProvider', () => {
  it('posts an OpenAI embeddings request and returns the vectors in input order', async () => {
    behaviour = ok;
    seen = [];
    const provider = new RemoteEmbeddingProvider({ endpoint: url, model: 'e5-small', apiKey: 'sk-test' });
    expect(provider.name).toBe('remote:e5-small');
    expect(provider.dimension).toBeUndefined();
    const vectors = await provider.embed(['hello', 'a longer text']);
    expect(vectors.map((v) => Array.from(v))).toEqual(vectorsFor(['hello', 'a longer text']));
    expect(provider.dimension).toBe(3);
    expect(seen[0]).toEqual({ path: '/v1/embeddings', auth: 'Bearer sk-test', body: { model: 'e5-small', input: ['hello', 'a longer text'], encoding_format: 'float' } });
    // The connection is kept alive: a second call goes over the same pool.
    expect((await provider.embed(['again']))[0]).toHaveLength(3);
    await provider.close();
  });

  it('puts an endpoint path prefix before /v1/embeddings', async () => {
    behaviour = ok;
    seen = [];
    const provider = new RemoteEmbeddingProvider({ endpoint: `${url}/tei`, model: 'bge' });
    await provider.embed(['x']);
    await provider.close();
    expect(seen[0].path).toBe('/tei/v1/embeddings');
  });

  it('a 500 is embedding_upstream_status, and the upstream body never reaches the message', async () => {
    behaviour = (_b, _r, res) => res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"CUDA out of memory at secret-host-17"}');
    const err = await failure(new RemoteEmbeddingProvider({ endpoint: url, model: 'm' }));
    expect(err.code).toBe('embedding_upstream_status');
    expect(err.message).toBe(`embeddings endpoint ${url} answered HTTP 500`);
    expect(err.message).not.toMatch(/CUDA|secret/);
  });

  it.each<[string, Behaviour, RegExp]>([
    ['a body that is not JSON', (_b, _r, res) => res.writeHead(200).end('<html>gateway error</html>'), /not JSON/],
    ['no data list', (_b, _r, res) => res.writeHead(200).end('{"object":"list"}'), /without a 'data' list/],
    ['fewer vectors than inputs', (_b, _r, res) => res.writeHead(200).end('{"data":[{"index":0,"embedding":[1,2,3]}]}'), /1 embeddings for 2 inputs/],
    ['a string among the numbers', (_b, _r, res) => res.writeHead(200).end('{"data":[{"index":0,"embedding":[1,"x",3]},{"index":1,"embedding":[1,2,3]}]}'), /non-numeric value at data\[0\]\.embedding\[1\]/],
    ['a repeated index', (_b, _r, res) => res.writeHead(200).end('{"data":[{"index":0,"embedding":[1]},{"index":0,"embedding":[1]}]}'), /repeated index at data\[1\]/],
  ])('garbage (%s) is embedding_malformed', async (_, answer, message) => {
    behaviour = answer;
    const err = await failure(new RemoteEmbeddingProvider({ endpoint: url, model: 'm' }));
    expect(err.code).toBe('embedding_malformed');
    expect(err.message).toMatch(message);
    expect(err.message).not.toMatch(/html|gateway error/);
  });

  it('an answer larger than the cap is embedding_malformed', async () => {
    behaviour = (body, _r, res) => res.writeHead(200).end(JSON.stringify({ data: body.input.map((_, index) => ({ index, embedding: new Array(5000).fill(0.5) })) }));
    const err = await failure(new RemoteEmbeddingProvider({ endpoint: url, model: 'm', maxResponseBytes: 10_000 }));
    expect(err.code).toBe('embedding_malformed');
    expect(err.message).toMatch(/more than 10000 bytes/);
  });

  it('a vector of the wrong length is embedding_dimension_mismatch', async () => {
    behaviour = ok;
    const err = await failure(new RemoteEmbeddingProvider({ endpoint: url, model: 'm', dimension: 768 }));
    expect(err.code).toBe('embedding_dimension_mismatch');
    expect(err.message).toMatch(/sent 3-dimensional vectors, expected 768/);
  });

  it('vectors of different lengths in one answer are embedding_dimension_mismatch', async () => {
    behaviour = (_b, _r, res) => res.writeHead(200).end('{"data":[{"index":0,"embedding":[1,2,3]},{"index":1,"embedding":[1,2]}]}');
    expect((await failure(new RemoteEmbeddingProvider({ endpoint: url, model: 'm' }))).code).toBe('embedding_dimension_mismatch');
  });

  it('no answer within timeout_ms is embedding_timeout, and the connection is dropped', async () => {
    let closed = false;
    behaviour = (_b, req) => req.socket.once('close', () => (closed = true));
    const err = await failure(new RemoteEmbeddingProvider({ endpoint: url, model: 'm', timeoutMs: 50 }));
    expect(err.code).toBe('embedding_timeout');
    expect(err.message).toMatch(/did not answer within 50 ms/);
    await expect.poll(() => closed).toBe(true);
  });

  it('a caller abort rejects with its reason', async () => {
    behaviour = () => undefined;
    const provider = new RemoteEmbeddingProvider({ endpoint: url, model: 'm' });
    const gone = new AbortController();
    const call = provider.embed(['x'], gone.signal);
    gone.abort(new Error('client left'));
    await expect(call).rejects.toThrow('client left');
    await provider.close();
  });

  it('a refused connection is embedding_unreachable', async () => {
    const probe = createNetServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const err = await failure(new RemoteEmbeddingProvider({ endpoint: `http://127.0.0.1:${port}`, model: 'm' }));
    expect(err.code).toBe('embedding_unreachable');
    expect(err.message).toMatch(/cannot reach embeddings endpoint http:\/\/127\.0\.0\.1:\d+ \(connect_refused\)/);
  });

  it('a garbled HTTP answer is embedding_malformed', async () => {
    behaviour = (_b, req) => req.socket.end('NOT-HTTP garbage\r\n\r\n');
    expect((await failure(new RemoteEmbeddingProvider({ endpoint: url, model: 'm' }))).code).toBe('embedding_malformed');
  });

  it('names bad options', () => {
    expect(() => new RemoteEmbeddingProvider({ endpoint: 'ftp://x', model: 'm' })).toThrow(/endpoint: 'ftp:\/\/x' must be http/);
    expect(() => new RemoteEmbeddingProvider({ endpoint: url, model: '' })).toThrow(/needs a model name/);
    expect(() => new RemoteEmbeddingProvider({ endpoint: url, model: 'm', timeoutMs: 0 })).toThrow(/timeout_ms/);
  });
});

describe('the cascade over a remote provider', () => {
  it('decides by the head when the server answers, and falls back to lexical on a 503', async () => {
    behaviour = (body, _r, res) => res.writeHead(200).end(JSON.stringify({ data: body.input.map((_, index) => ({ index, embedding: [0, 1, 0] })) }));
    const provider = new RemoteEmbeddingProvider({ endpoint: url, model: 'axis' });
    const cascade = new EmbeddingCascade({ provider, head: axisHead('remote:axis'), clusterLabels: LABELS, threshold: 0.6, timeoutMs: 2000, maxPending: 4, cacheSize: 0, weight: 0.6 });
    const d = await cascade.decide('prove it', prediction(0, 0.4));
    expect(d).toMatchObject({ tier: 'embedding', reason: 'embedded' });
    expect(d.prediction.label).toBe('math');
    behaviour = (_b, _r, res) => res.writeHead(503).end();
    expect(await cascade.decide('prove it', prediction(0, 0.4))).toMatchObject({ tier: 'lexical', reason: 'error', errorCode: 'embedding_upstream_status' });
    await cascade.close();
  });
});

/**
 * Client keys, per-key experts and limits, admin endpoints, secrets from the environment and from
 * files, and the listener guard, over loopback. Keys never appear in the gateway's log.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import OpenAI from 'openai';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, hashKey, parseGatewayConfig } from '../../src/config/index.js';
import { startGateway, type RunningGateway } from '../../src/gateway/index.js';
import { completionRequests, startTestOpenAIStub, type TestOpenAIStub } from '../helpers/openai-stub.js';
import { testClassifier } from './keyword-classifier.js';
import { chat, openaiExpert, postJson } from './setup.js';

const KEY_ENV = 'sk-team-env-0123456789abcdef';
const KEY_FILE = 'sk-team-file-0123456789abcdef';
const KEY_HASHED = 'sk-team-hash-0123456789abcdef';
const KEY_LIMITED = 'sk-team-rpm-0123456789abcdef';
const KEY_TOKENS = 'sk-team-tpm-0123456789abcdef';
const KEY_ADMIN = 'sk-admin-0123456789abcdef0123';
const UPSTREAM_KEY = 'sk-upstream-secret-value-42';

const dir = mkdtempSync(join(tmpdir(), 'gateway-auth-'));

/** A pino logger whose lines the test can read. */
function memoryLogger(): { logger: pino.Logger; text: () => string; lines: () => Record<string, unknown>[] } {
  let out = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      out += chunk.toString();
      done();
    },
  });
  return {
    logger: pino({ level: 'info' }, stream),
    text: () => out,
    lines: () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const bearer = (key: string): Record<string, string> => ({ 'content-type': 'application/json', authorization: `Bearer ${key}` });

describe('client keys', () => {
  let stubs: TestOpenAIStub[];
  let gw: RunningGateway;
  const log = memoryLogger();

  beforeAll(async () => {
    process.env.ER_TEST_TEAM_KEY = KEY_ENV;
    process.env.ER_TEST_UPSTREAM_KEY = UPSTREAM_KEY;
    writeFileSync(join(dir, 'team.key'), `${KEY_FILE}\n`);
    stubs = await Promise.all(['general', 'code'].map((n) => startTestOpenAIStub(n)));
    const config = parseGatewayConfig({
      listen: { host: '127.0.0.1', port: 0 },
      experts: [openaiExpert('general', [stubs[0].url], [], { api_key: '${ER_TEST_UPSTREAM_KEY}' }), openaiExpert('code', [stubs[1].url], ['code'])],
      default_expert: 'general',
      health: { interval_ms: 200, timeout_ms: 500 },
      auth: {
        keys: [
          { name: 'team-env', key: '${ER_TEST_TEAM_KEY}' },
          { name: 'team-file', key: `file:${join(dir, 'team.key')}`, experts: ['general'] },
          { name: 'team-hash', sha256: hashKey(KEY_HASHED).toUpperCase() },
          { name: 'team-rpm', key: KEY_LIMITED, requests_per_minute: 2 },
          { name: 'team-tpm', key: KEY_TOKENS, tokens_per_minute: 10 },
          { name: 'ops', key: KEY_ADMIN, admin: true },
        ],
      },
    });
    gw = await startGateway(config, { classifier: testClassifier(), logger: log.logger });
    await gw.checkHealth();
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all(stubs.map((s) => s.close()));
    delete process.env.ER_TEST_TEAM_KEY;
    delete process.env.ER_TEST_UPSTREAM_KEY;
  });

  it('answers 401 without a key, with an unknown key and with a malformed header, forwarding nothing', async () => {
    const before = completionRequests(stubs[0]).length + completionRequests(stubs[1]).length;
    for (const headers of [{ 'content-type': 'application/json' }, bearer('sk-wrong-0123456789abcdef'), { 'content-type': 'application/json', authorization: `Basic ${KEY_ENV}` }]) {
      const res = await postJson(`${gw.url}/v1/chat/completions`, chat('hello'), { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(((await res.json()) as { error: { code: string; type: string } }).error).toMatchObject({ code: 'unauthorized', type: 'authentication_error' });
    }
    expect((await fetch(`${gw.url}/v1/models`)).status).toBe(401);
    expect((await postJson(`${gw.url}/v1/route`, chat('hello'))).status).toBe(401);
    expect(completionRequests(stubs[0]).length + completionRequests(stubs[1]).length).toBe(before);
  });

  it('accepts a key read from the environment, one read from a file and one given as its SHA-256', async () => {
    for (const key of [KEY_ENV, KEY_FILE, KEY_HASHED]) {
      const res = await postJson(`${gw.url}/v1/chat/completions`, chat('hello'), { headers: bearer(key) });
      expect(res.status).toBe(200);
      await res.body?.cancel();
    }
  });

  it("sends the expert's upstream key from the environment, never the client's key", async () => {
    const res = await postJson(`${gw.url}/v1/chat/completions`, chat('hello'), { headers: bearer(KEY_ENV) });
    await res.body?.cancel();
    expect(completionRequests(stubs[0]).at(-1)?.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    const code = await postJson(`${gw.url}/v1/chat/completions`, chat('write python code'), { headers: bearer(KEY_ENV) });
    await code.body?.cancel();
    expect(completionRequests(stubs[1]).at(-1)?.headers.authorization).toBeUndefined();
  });

  it('answers 403 when a key may not use the chosen expert, and lists only its experts', async () => {
    const classified = await postJson(`${gw.url}/v1/chat/completions`, chat('write python code'), { headers: bearer(KEY_FILE) });
    expect(classified.status).toBe(403);
    expect(((await classified.json()) as { error: { code: string; type: string } }).error).toMatchObject({ code: 'permission_denied', type: 'permission_error' });
    const pinned = await postJson(`${gw.url}/v1/chat/completions`, chat('hello', { model: 'code' }), { headers: bearer(KEY_FILE) });
    expect(pinned.status).toBe(403);
    await pinned.body?.cancel();
    const models = (await (await fetch(`${gw.url}/v1/models`, { headers: bearer(KEY_FILE) })).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toEqual(['auto', 'general']);
  });

  it('answers 429 rate_limited with Retry-After past a key\'s requests per minute', async () => {
    for (let i = 0; i < 2; i++) {
      const ok = await postJson(`${gw.url}/v1/chat/completions`, chat('hello'), { headers: bearer(KEY_LIMITED) });
      expect(ok.status).toBe(200);
      await ok.body?.cancel();
    }
    const limited = await postJson(`${gw.url}/v1/chat/completions`, chat('hello'), { headers: bearer(KEY_LIMITED) });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await limited.json()) as { error: { code: string; type: string } }).error).toMatchObject({ code: 'rate_limited', type: 'rate_limit_error' });
    // Other keys are not affected.
    const other = await postJson(`${gw.url}/v1/chat/completions`, chat('hello'), { headers: bearer(KEY_ENV) });
    expect(other.status).toBe(200);
    await other.body?.cancel();
  });

  it('answers 429 once the tokens a key used (as the expert reported them) pass its tokens per minute', async () => {
    // The stub reports 5 prompt + 3 completion tokens: 10 per minute allows two requests to start.
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await postJson(`${gw.url}/v1/chat/completions`, chat('hello'), { headers: bearer(KEY_TOKENS) });
      statuses.push(res.status);
      if (res.status === 429) expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      await res.body?.cancel();
    }
    expect(statuses).toEqual([200, 200, 429]);
  });

  it('gives the openai client AuthenticationError, PermissionDeniedError and RateLimitError', async () => {
    const client = (key: string): OpenAI => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
    const ask = (key: string, text: string): Promise<unknown> => client(key).chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: text }] }).catch((e: unknown) => e);
    expect(await ask('sk-nobody-0123456789abcdef', 'hello')).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(await ask(KEY_FILE, 'write python code')).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(await ask(KEY_LIMITED, 'hello')).toBeInstanceOf(OpenAI.RateLimitError);
    const answer = (await ask(KEY_HASHED, 'write python code')) as OpenAI.ChatCompletion;
    expect(answer.choices[0].message.content).toContain('code');
  });

  it('keeps /admin/reload and /metrics to admin keys, and replica addresses on /readyz to them', async () => {
    const reload = await fetch(`${gw.url}/admin/reload`, { method: 'POST', headers: bearer(KEY_ENV) });
    expect(reload.status).toBe(403);
    expect(((await reload.json()) as { error: { code: string } }).error.code).toBe('permission_denied');
    expect((await fetch(`${gw.url}/metrics`, { headers: bearer(KEY_ENV) })).status).toBe(403);
    expect((await fetch(`${gw.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${gw.url}/metrics`, { headers: bearer(KEY_ADMIN) })).status).toBe(200);
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
    const open = await (await fetch(`${gw.url}/readyz`)).text();
    expect(open).toContain('"ready":true');
    expect(open).not.toContain('127.0.0.1');
    const admin = (await (await fetch(`${gw.url}/readyz`, { headers: bearer(KEY_ADMIN) })).json()) as { experts: { replicas: { url: string }[] }[] };
    expect(admin.experts[0].replicas[0].url).toBe(stubs[0].url);
  });

  it('never writes a key to the log, and names callers by their key names', async () => {
    const text = log.text();
    for (const secret of [KEY_ENV, KEY_FILE, KEY_HASHED, KEY_LIMITED, KEY_TOKENS, KEY_ADMIN, UPSTREAM_KEY, 'sk-wrong-0123456789abcdef', 'sk-nobody']) expect(text).not.toContain(secret);
    const callers = new Set(log.lines().filter((l) => l.msg === 'request').map((l) => l.caller));
    expect(callers).toEqual(new Set(['team-env', 'team-file', 'team-hash', 'team-rpm', 'team-tpm', 'ops', undefined]));
  });
});

describe('secrets and the listener in the config', () => {
  const base = { experts: [openaiExpert('general', ['http://127.0.0.1:9'], [])] };
  const errorOf = (value: unknown): string => {
    try {
      parseGatewayConfig(value);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as Error).message;
    }
    throw new Error('expected a ConfigError');
  };

  it('refuses CR or LF in a value sent as a header, wherever it comes from', () => {
    process.env.ER_TEST_CRLF = 'sk-abc\r\nx-injected: 1';
    writeFileSync(join(dir, 'two-lines.key'), 'sk-abc\nx-injected: 1\n');
    try {
      for (const api_key of ['sk-abc\r\nx-injected: 1', '${ER_TEST_CRLF}', `file:${join(dir, 'two-lines.key')}`]) {
        const message = errorOf({ experts: [openaiExpert('general', ['http://127.0.0.1:9'], [], { api_key })] });
        expect(message).toMatch(/experts\[0\]\.api_key: must not contain CR, LF/);
        expect(message).not.toContain('x-injected');
      }
    } finally {
      delete process.env.ER_TEST_CRLF;
    }
  });

  it('names the key and the variable or file of a reference that cannot be resolved', () => {
    delete process.env.ER_TEST_UNSET;
    expect(errorOf({ ...base, auth: { keys: [{ name: 'a', key: '${ER_TEST_UNSET}' }] } })).toMatch(/auth\.keys\[0\]\.key: environment variable ER_TEST_UNSET is not set/);
    expect(errorOf({ ...base, auth: { keys: [{ name: 'a', key: `file:${join(dir, 'missing.key')}` }] } })).toMatch(/auth\.keys\[0\]\.key: cannot read .*missing\.key: ENOENT/);
    expect(errorOf({ ...base, auth: { keys: [{ name: 'a' }] } })).toMatch(/auth\.keys\[0\]: give exactly one of 'key' and 'sha256'/);
    expect(errorOf({ ...base, auth: { keys: [{ name: 'a', key: 'short' }] } })).toMatch(/auth\.keys\[0\]\.key: a client key needs at least 16 characters/);
    expect(errorOf({ ...base, auth: { keys: [{ name: 'a', key: KEY_ENV, experts: ['nobody'] }] } })).toMatch(/auth\.keys\[0\]\.experts\[0\]: no expert is named 'nobody'/);
    // $${ writes a literal ${.
    expect(parseGatewayConfig({ ...base, classifier: { model: 'models/$${x}.json' } }).classifier.model).toBe('models/${x}.json');
  });

  it('keeps only the SHA-256 of a client key in the loaded config', () => {
    const config = parseGatewayConfig({ ...base, auth: { keys: [{ name: 'a', key: KEY_ENV }] } });
    expect(config.auth.keys[0]).toEqual({ name: 'a', admin: false, sha256: hashKey(KEY_ENV) });
    expect(JSON.stringify(config)).not.toContain(KEY_ENV);
  });

  it('refuses to serve a non-loopback address without keys, unless told to', async () => {
    const open = parseGatewayConfig({ ...base, listen: { host: '0.0.0.0', port: 0 } });
    await expect(startGateway(open, { classifier: testClassifier(), logger: pino({ level: 'silent' }) })).rejects.toThrow(/listen\.host: '0\.0\.0\.0' is not a loopback address and auth\.keys is empty/);
    for (const config of [
      parseGatewayConfig({ ...base, listen: { host: '0.0.0.0', port: 0, allow_unauthenticated: true } }),
      parseGatewayConfig({ ...base, listen: { host: '0.0.0.0', port: 0 }, auth: { keys: [{ name: 'a', key: KEY_ENV }] } }),
    ]) {
      const gw = await startGateway(config, { classifier: testClassifier(), logger: pino({ level: 'silent' }) });
      await gw.close();
    }
  });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * What the gateway adds: a closed-loop streaming client at 1, 100 and 500 concurrent streams against a
 * stub expert with a fixed TTFT and inter-token gap, once direct and once through the gateway
 * (model "auto", so every request is classified), in the same run. Then the gateway's RSS with
 * 1,000 streams open. The stub and the gateway each run in a child process of their own, so the
 * gateway's memory and CPU are its own; the gateway runs from dist/ with plain node, as deployed
 * (so run `npm run build` first). Prints medians and ratios (the machine is shared and noisy).
 *
 *   npm run build && npx tsx benchmarks/gateway-overhead.ts [--levels 1,100,500] [--seconds 3] [--rounds 3] [--ttft-ms 20] [--itl-ms 5]
 *     [--tokens 16] [--open-streams 1000] [--classifier-model PATH] [--tcp-relay] [--profile-gateway DIR]
 *     [--jit-warmup-seconds 3] [--warmup-seconds 1]
 *
 * --tcp-relay puts a plain TCP relay (two piped sockets, no HTTP at all) where the gateway would be:
 * the floor that any proxy process adds on this machine, to read the gateway's figures against.
 * Before the first level every process runs the request path under load for --jit-warmup-seconds, unmeasured,
 * so that the levels compare JIT-compiled code (as in a long-running deployment), not V8's warm-up.
 * --profile-gateway DIR writes a V8 CPU profile of the gateway process into DIR (open it in Chrome's DevTools).
 *
 * Targets (issue 3): added TTFT p50 <= 0.5 ms at 1 stream and <= 1 ms at 100; requests/s through the
 * gateway >= 0.75x direct at 500; gateway RSS < 200 MB at 1,000 open streams.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Agent, type Dispatcher } from 'undici';
import { startStubProcess } from './lib/stub-process.js';

interface Options {
  levels: number[];
  seconds: number;
  warmupSeconds: number;
  jitWarmupSeconds: number;
  rounds: number;
  ttftMs: number;
  itlMs: number;
  tokens: number;
  openStreams: number;
  classifierModel: string | undefined;
  tcpRelay: boolean;
  profileDir: string | undefined;
}

type ChildMessage = { url: string } | { rss: number; cpuMs: number };


const PROMPTS = [
  'Write a Python function that merges two sorted lists into one sorted list and explain its complexity.',
  'A train leaves at 3 pm travelling at 60 miles per hour. How far has it gone by 5:30 pm?',
  'What are the common side effects of beta blockers in patients with asthma?',
  'Summarise the doctrine of consideration in contract law with an example.',
  'Explain how photosynthesis converts light energy into chemical energy.',
];

// ---- child processes -------------------------------------------------------------------------

/** dist/ of this package: the gateway runs from there (plain node, as deployed) when it was built. */
const DIST = new URL('../dist/', import.meta.url);

/**
 * The gateway child's program, plain JavaScript run by `node -e` so that no TypeScript loader sits
 * in the measured process. argv[1]: {"stubUrl", "classifierModel"?}.
 */
const GATEWAY_CHILD = `
const { parseGatewayConfig, startGateway } = await import(new URL('gateway/index.js', process.env.EXPERT_ROUTER_DIST).href);
const { silentLogger } = await import(new URL('telemetry/logger.js', process.env.EXPERT_ROUTER_DIST).href);
const { stubUrl, classifierModel } = JSON.parse(process.argv[1]);
const config = parseGatewayConfig({
  listen: { host: '127.0.0.1', port: 0 },
  classifier: classifierModel ? { model: classifierModel } : {},
  experts: [{ name: 'expert', protocol: 'openai', model: 'stub-model', endpoints: [stubUrl] }],
});
const gateway = await startGateway(config, { logger: silentLogger });
process.send({ url: gateway.url });
process.on('message', (m) => {
  if (m !== 'stats') return;
  const cpu = process.cpuUsage();
  process.send({ rss: process.memoryUsage().rss, cpuMs: (cpu.user + cpu.system) / 1000 });
});
process.on('disconnect', () => process.exit(0));
`;

/** The --tcp-relay child: the same protocol as the gateway child, relaying bytes only. */
const TCP_RELAY_CHILD = `
const net = await import('node:net');
const upstream = new URL(JSON.parse(process.argv[1]).stubUrl);
const server = net.createServer((client) => {
  const up = net.connect({ host: upstream.hostname, port: Number(upstream.port), noDelay: true });
  client.setNoDelay(true);
  client.pipe(up);
  up.pipe(client);
  client.on('error', () => up.destroy());
  up.on('error', () => client.destroy());
  client.on('close', () => up.destroy());
  up.on('close', () => client.destroy());
});
server.listen(0, '127.0.0.1', () => process.send({ url: 'http://127.0.0.1:' + server.address().port }));
process.on('message', (m) => {
  if (m !== 'stats') return;
  const cpu = process.cpuUsage();
  process.send({ rss: process.memoryUsage().rss, cpuMs: (cpu.user + cpu.system) / 1000 });
});
process.on('disconnect', () => process.exit(0));
`;

function whenListening(child: ChildProcess, role: string): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    child.once('message', (m: ChildMessage) => resolve({ child, url: (m as { url: string }).url }));
    child.once('exit', (code) => reject(new Error(`${role} child exited with code ${code}`)));
  });
}

function startGatewayChild(arg: { stubUrl: string; classifierModel?: string }, tcpRelay: boolean, profileDir: string | undefined): Promise<{ child: ChildProcess; url: string }> {
  if (!existsSync(new URL('gateway/index.js', DIST))) throw new Error('dist/ has no gateway: run `npm run build` first');
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const child = spawn(process.execPath, [...profile, '--input-type=module', '-e', tcpRelay ? TCP_RELAY_CHILD : GATEWAY_CHILD, JSON.stringify(arg)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, EXPERT_ROUTER_DIST: DIST.href },
  });
  return whenListening(child, 'gateway');
}

function stats(child: ChildProcess): Promise<{ rss: number; cpuMs: number }> {
  return new Promise((resolve) => {
    child.once('message', (m: ChildMessage) => resolve(m as { rss: number; cpuMs: number }));
    child.send('stats');
  });
}

// ---- the client ------------------------------------------------------------------------------

interface StreamResult {
  ttftMs: number;
  ok: boolean;
  /** The gateway's own time before forwarding and its classification part, from server-timing (NaN direct). */
  gatewayMs: number;
  classifyMs: number;
}

/** One streaming request; resolves at its end. `onFirst` fires at the first body byte. */
function streamOnce(agent: Agent, origin: string, body: string, onFirst?: () => void, signal?: AbortSignal): Promise<StreamResult> {
  return new Promise((resolve) => {
    const sent = performance.now();
    let ttftMs = -1;
    let status = 0;
    let gatewayMs = NaN;
    let classifyMs = NaN;
    let tail = '';
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(controller) {
        if (signal) signal.addEventListener('abort', () => controller.abort(new Error('bench done')), { once: true });
      },
      onResponseStart(_c, statusCode, headers) {
        status = statusCode;
        const timing = headers['server-timing'];
        if (typeof timing === 'string') {
          gatewayMs = Number(/gateway;dur=([\d.]+)/.exec(timing)?.[1]);
          classifyMs = Number(/classify;dur=([\d.]+)/.exec(timing)?.[1]);
        }
      },
      onResponseData(_c, chunk) {
        if (ttftMs < 0) {
          ttftMs = performance.now() - sent;
          onFirst?.();
        }
        tail = chunk.toString('latin1', Math.max(0, chunk.length - 20));
      },
      onResponseEnd() {
        resolve({ ttftMs, ok: status === 200 && tail.includes('[DONE]'), gatewayMs, classifyMs });
      },
      onResponseError() {
        resolve({ ttftMs, ok: false, gatewayMs, classifyMs });
      },
    };
    agent.dispatch({ origin, path: '/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json' }, body }, handler);
  });
}

function requestBody(i: number, maxTokens: number): string {
  return JSON.stringify({
    model: 'auto',
    stream: true,
    stream_options: { include_usage: true },
    max_tokens: maxTokens,
    messages: [{ role: 'user', content: PROMPTS[i % PROMPTS.length] }],
  });
}

/** One closed-loop run of one level. */
interface RunResult {
  ttfts: number[];
  gatewayMs: number[];
  classifyMs: number[];
  reqPerSec: number;
  errors: number;
  /** Requests completed, warm-up included (for CPU per request). */
  total: number;
}

/** The runs of one level and mode, pooled. */
interface LevelResult {
  ttftP50: number;
  ttftP90: number;
  /** Medians of the gateway's own pre-forwarding time and of its classification time (server-timing). */
  gatewayP50: number;
  classifyP50: number;
  reqPerSec: number;
  errors: number;
}

function pool(runs: RunResult[]): LevelResult {
  const ttfts = runs.flatMap((r) => r.ttfts).sort((a, b) => a - b);
  const gatewayMs = runs.flatMap((r) => r.gatewayMs).sort((a, b) => a - b);
  const classifyMs = runs.flatMap((r) => r.classifyMs).sort((a, b) => a - b);
  const rates = runs.map((r) => r.reqPerSec).sort((a, b) => a - b);
  return {
    ttftP50: quantile(ttfts, 0.5),
    ttftP90: quantile(ttfts, 0.9),
    gatewayP50: quantile(gatewayMs, 0.5),
    classifyP50: quantile(classifyMs, 0.5),
    reqPerSec: quantile(rates, 0.5),
    errors: runs.reduce((n, r) => n + r.errors, 0),
  };
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Closed loop: `users` streams, each sending its next request when the previous ends. */
async function closedLoop(agent: Agent, origin: string, users: number, opts: Options): Promise<RunResult> {
  const ttfts: number[] = [];
  const gatewayMs: number[] = [];
  const classifyMs: number[] = [];
  let completed = 0;
  let errors = 0;
  let total = 0;
  const start = performance.now();
  const measureFrom = start + opts.warmupSeconds * 1000;
  const stopAt = measureFrom + opts.seconds * 1000;
  let lastEnd = measureFrom;
  const bodies = PROMPTS.map((_, i) => requestBody(i, opts.tokens));
  const user = async (u: number): Promise<void> => {
    for (let i = u; performance.now() < stopAt; i += users) {
      const sentAt = performance.now();
      const r = await streamOnce(agent, origin, bodies[i % bodies.length]);
      const now = performance.now();
      total++;
      if (sentAt < measureFrom || now > stopAt) continue;
      if (!r.ok) {
        errors++;
        continue;
      }
      ttfts.push(r.ttftMs);
      gatewayMs.push(r.gatewayMs);
      classifyMs.push(r.classifyMs);
      completed++;
      lastEnd = now;
    }
  };
  await Promise.all(Array.from({ length: users }, (_, u) => user(u)));
  return { ttfts, gatewayMs, classifyMs, reqPerSec: completed / ((lastEnd - measureFrom) / 1000), errors, total };
}

/** Opens `n` long streams through the gateway, samples its RSS once all are streaming, then aborts them. */
async function rssWithOpenStreams(agent: Agent, origin: string, gateway: ChildProcess, n: number): Promise<{ rssMb: number; idleMb: number }> {
  const idle = await stats(gateway);
  const abort = new AbortController();
  setMaxListeners(n + 10, abort.signal);
  let streaming = 0;
  let allStreaming!: () => void;
  const ready = new Promise<void>((resolve) => (allStreaming = resolve));
  const body = requestBody(0, 1_000_000);
  const pending = Array.from({ length: n }, () => streamOnce(agent, origin, body, () => {
    if (++streaming === n) allStreaming();
  }, abort.signal));
  await ready;
  await new Promise((r) => setTimeout(r, 500));
  const busy = await stats(gateway);
  abort.abort();
  await Promise.all(pending);
  return { rssMb: busy.rss / 2 ** 20, idleMb: idle.rss / 2 ** 20 };
}

interface CpuSample {
  client: number;
  stub: number;
  gateway: number;
}

interface CpuPerRequest {
  client: number;
  stub: number;
  gateway: number;
  directClient: number;
  directStub: number;
}

async function cpuNow(stub: ChildProcess, gateway: ChildProcess): Promise<CpuSample> {
  const [s, g] = await Promise.all([stats(stub), stats(gateway)]);
  const c = process.cpuUsage();
  return { client: (c.user + c.system) / 1000, stub: s.cpuMs, gateway: g.cpuMs };
}

/** CPU microseconds per request of each process between two samples. */
function cpuSince(a: CpuSample, b: CpuSample, requests: number): CpuSample {
  const per = (x: number, y: number): number => ((y - x) * 1000) / Math.max(1, requests);
  return { client: per(a.client, b.client), stub: per(a.stub, b.stub), gateway: per(a.gateway, b.gateway) };
}

// ---- main ------------------------------------------------------------------------------------

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      levels: { type: 'string', default: '1,100,500' },
      seconds: { type: 'string', default: '3' },
      'warmup-seconds': { type: 'string', default: '1' },
      'jit-warmup-seconds': { type: 'string', default: '3' },
      rounds: { type: 'string', default: '3' },
      'ttft-ms': { type: 'string', default: '20' },
      'itl-ms': { type: 'string', default: '5' },
      tokens: { type: 'string', default: '16' },
      'open-streams': { type: 'string', default: '1000' },
      'classifier-model': { type: 'string' },
      'tcp-relay': { type: 'boolean', default: false },
      'profile-gateway': { type: 'string' },
    },
  });
  return {
    levels: values.levels.split(',').map(Number),
    seconds: Number(values.seconds),
    warmupSeconds: Number(values['warmup-seconds']),
    jitWarmupSeconds: Number(values['jit-warmup-seconds']),
    rounds: Number(values.rounds),
    ttftMs: Number(values['ttft-ms']),
    itlMs: Number(values['itl-ms']),
    tokens: Number(values.tokens),
    openStreams: Number(values['open-streams']),
    classifierModel: values['classifier-model'],
    tcpRelay: values['tcp-relay'],
    profileDir: values['profile-gateway'],
  };
}

async function main(): Promise<void> {
  const opts = parseOptions();
  // The stub's own token cap is high so that the RSS phase can hold streams open; each request
  // asks for opts.tokens.
  const stub = await startStubProcess({ ttftMs: opts.ttftMs, itlMs: opts.itlMs, tokens: 1_000_000 });
  const gateway = await startGatewayChild({ stubUrl: stub.url, classifierModel: opts.classifierModel }, opts.tcpRelay, opts.profileDir);
  if (opts.tcpRelay) console.log('--tcp-relay: "gateway" below is a plain TCP relay (no HTTP), the floor of any proxy process');
  const agent = new Agent({ connections: null, keepAliveTimeout: 30_000, headersTimeout: 0, bodyTimeout: 0 });
  try {
    console.log(`stub: TTFT ${opts.ttftMs} ms, ITL ${opts.itlMs} ms, ${opts.tokens} tokens; per level and mode ${opts.rounds} rounds of ${opts.seconds} s after ${opts.warmupSeconds} s warm-up`);
    if (opts.jitWarmupSeconds > 0) {
      // A deployed gateway has long run its hot path optimised; a fresh process at 10 requests/s
      // (the 1-stream level) would still be interpreting it. So first every process runs the path
      // under load, unmeasured, both ways.
      const jitWarmup = { ...opts, seconds: opts.jitWarmupSeconds, warmupSeconds: 0 };
      for (const origin of [stub.url, gateway.url]) await closedLoop(agent, origin, 100, jitWarmup);
      console.log(`JIT warm-up: ${opts.jitWarmupSeconds} s at 100 streams each way, not measured`);
    }
    console.log('streams | direct TTFT p50 / p90 ms | gateway TTFT p50 / p90 ms | added TTFT p50 ms | direct req/s | gateway req/s | ratio | errors d/g');
    const rows: { users: number; direct: LevelResult; viaGateway: LevelResult; cpu: CpuPerRequest }[] = [];
    for (const users of opts.levels) {
      const runs = { direct: [] as RunResult[], gateway: [] as RunResult[] };
      const cpu = { direct: [] as CpuSample[], gateway: [] as CpuSample[] };
      // Rounds alternate the order (direct first, then gateway first) so drift hits both alike.
      for (let round = 0; round < opts.rounds; round++) {
        const order = round % 2 === 0 ? (['direct', 'gateway'] as const) : (['gateway', 'direct'] as const);
        for (const mode of order) {
          const before = await cpuNow(stub.child, gateway.child);
          const run = await closedLoop(agent, mode === 'direct' ? stub.url : gateway.url, users, opts);
          cpu[mode].push(cpuSince(before, await cpuNow(stub.child, gateway.child), run.total));
          runs[mode].push(run);
        }
      }
      const direct = pool(runs.direct);
      const viaGateway = pool(runs.gateway);
      const med = (xs: CpuSample[], k: keyof CpuSample): number => quantile(xs.map((x) => x[k]).sort((a, b) => a - b), 0.5);
      rows.push({ users, direct, viaGateway, cpu: { client: med(cpu.gateway, 'client'), stub: med(cpu.gateway, 'stub'), gateway: med(cpu.gateway, 'gateway'), directClient: med(cpu.direct, 'client'), directStub: med(cpu.direct, 'stub') } });
      console.log([
        String(users).padStart(7),
        `${direct.ttftP50.toFixed(2)} / ${direct.ttftP90.toFixed(2)}`.padStart(25),
        `${viaGateway.ttftP50.toFixed(2)} / ${viaGateway.ttftP90.toFixed(2)}`.padStart(26),
        (viaGateway.ttftP50 - direct.ttftP50).toFixed(3).padStart(17),
        direct.reqPerSec.toFixed(0).padStart(12),
        viaGateway.reqPerSec.toFixed(0).padStart(13),
        (viaGateway.reqPerSec / direct.reqPerSec).toFixed(2).padStart(5),
        `${direct.errors}/${viaGateway.errors}`.padStart(11),
      ].join(' | '));
    }
    const rss = await rssWithOpenStreams(agent, gateway.url, gateway.child, opts.openStreams);
    console.log(`gateway RSS: ${rss.idleMb.toFixed(1)} MB idle, ${rss.rssMb.toFixed(1)} MB with ${opts.openStreams} open streams`);
    const at = (n: number): (typeof rows)[number] | undefined => rows.find((r) => r.users === n);
    const verdict = (ok: boolean | undefined): string => (ok === undefined ? 'not measured' : ok ? 'met' : 'NOT met');
    const added = (n: number): number | undefined => {
      const r = at(n);
      return r ? r.viaGateway.ttftP50 - r.direct.ttftP50 : undefined;
    };
    const ratio500 = at(500) ? at(500)!.viaGateway.reqPerSec / at(500)!.direct.reqPerSec : undefined;
    console.log(`targets: added TTFT p50 at 1 <= 0.5 ms: ${verdict(added(1) === undefined ? undefined : added(1)! <= 0.5)}; ` +
      `at 100 <= 1 ms: ${verdict(added(100) === undefined ? undefined : added(100)! <= 1)}; ` +
      `req/s ratio at 500 >= 0.75: ${verdict(ratio500 === undefined ? undefined : ratio500 >= 0.75)}; ` +
      `RSS at ${opts.openStreams} streams < 200 MB: ${verdict(rss.rssMb < 200)}`);
    console.log(`gateway's own time before forwarding (server-timing), p50, of which classifying: ${rows.map((r) => `${r.users} streams ${r.viaGateway.gatewayP50.toFixed(3)} ms (${r.viaGateway.classifyP50.toFixed(3)} ms)`).join(', ')}`);
    console.log('CPU µs per request (direct: client + stub; through the gateway: client + stub + gateway):');
    for (const { users, cpu } of rows) {
      console.log(`  ${String(users).padStart(3)} streams: direct ${cpu.directClient.toFixed(0)} + ${cpu.directStub.toFixed(0)}; ` +
        `gateway run ${cpu.client.toFixed(0)} + ${cpu.stub.toFixed(0)} + ${cpu.gateway.toFixed(0)}`);
    }
  } finally {
    await agent.close();
    if (opts.profileDir) {
      // A profiled gateway writes its profile when it exits by itself (it exits on disconnect).
      const exited = new Promise((resolve) => gateway.child.once('exit', resolve));
      gateway.child.disconnect();
      await exited;
    } else gateway.child.kill();
    stub.child.kill();
  }
}

await main();

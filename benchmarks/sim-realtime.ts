/**
 * Real-time capacity of the simulator: one process serving N concurrent streams (default 1,000,
 * spread over 4 simulated servers). A child process runs the servers; this process drives
 * closed-loop streaming clients over raw keep-alive sockets (no parsing beyond spotting the end of
 * each response, so the load generator leaves the CPU to the server on a small machine). Prints, for the server process, how late tokens were
 * written against the engine's schedule (p50/p99/max), how many were written early (never: the real clock
 * does not run an event before its time) and how often an engine fell 50 ms behind and re-anchored
 * (schedule slips), and its CPU use in cores (process.cpuUsage: every thread of the process).
 * Goals: token timing error p99 < 5 ms and < 1 core. Each token is due when the engine's output loop
 * hands it out (its step's end plus its place in the batch times the per-sequence overhead); users
 * start at random times in the first second (--arrivals lockstep: every engine gets the same load
 * shifted by a millisecond, so all engines step together, the worst case for one process).
 *
 * The measurement repeats over --windows windows (reset between them); the summary is their median.
 *
 *   npx tsx benchmarks/sim-realtime.ts [--streams 1000] [--servers 4] [--seconds 10] [--windows 3] [--warmup 3]
 *                                 [--arrivals random|lockstep] [--seed 1]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { connect, type Socket } from 'node:net';
import { countPromptTokens, createRng, startSimServers, type SimServer } from '../src/sim/index.js';

const { values } = parseArgs({
  options: {
    serve: { type: 'boolean', default: false },
    streams: { type: 'string', default: '1000' },
    servers: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '10' },
    windows: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '3' },
    profile: { type: 'string', default: 'h100-80gb:llama-3-8b:fp8:tp1' },
    arrivals: { type: 'string', default: 'random' },
    seed: { type: 'string', default: '1' },
  },
});

interface ChildStats {
  lag: { count: number; p50: number; p99: number; max: number; early: number };
  slips: number;
  cpuMs: number;
  wallMs: number;
  activeStreams: number;
  tokens: number;
}

type ToChild = { kind: 'reset' } | { kind: 'stats' } | { kind: 'stop' };

async function serveInChild(): Promise<void> {
  const n = Number(values.servers);
  const servers: SimServer[] = await startSimServers(
    Array.from({ length: n }, (_, i) => ({ profile: values.profile, port: 0, seed: i + 1, modelName: 'bench', maxNumSeqs: 1024 })),
  );
  let since = performance.now();
  let cpuBase = process.cpuUsage();
  let tokenBase = 0;
  let slipBase = 0;
  const tokens = (): number => servers.reduce((s, x) => s + x.engine.stats().generationTokens, 0);
  const slips = (): number => servers.reduce((s, x) => s + x.engine.stats().scheduleSlips, 0);
  process.on('message', (m: ToChild) => {
    if (m.kind === 'reset') {
      for (const s of servers) s.resetStats();
      since = performance.now();
      cpuBase = process.cpuUsage();
      tokenBase = tokens();
      slipBase = slips();
      process.send?.({ reset: true });
    } else if (m.kind === 'stats') {
      const cpu = process.cpuUsage(cpuBase);
      const all = servers.map((s) => s.stats());
      // Pool the lag summaries conservatively: worst p99 and max over servers, count summed.
      const lag = {
        count: all.reduce((s, x) => s + x.tokenLagMs.count, 0),
        p50: Math.max(...all.map((x) => x.tokenLagMs.p50)),
        p99: Math.max(...all.map((x) => x.tokenLagMs.p99)),
        max: Math.max(...all.map((x) => x.tokenLagMs.max)),
        early: all.reduce((s, x) => s + x.tokenLagMs.early, 0),
      };
      const stats: ChildStats = { lag, cpuMs: (cpu.user + cpu.system) / 1e3, wallMs: performance.now() - since, activeStreams: all.reduce((s, x) => s + x.activeStreams, 0), tokens: tokens() - tokenBase, slips: slips() - slipBase };
      process.send?.(stats);
    } else {
      void Promise.all(servers.map((s) => s.close())).then(() => process.exit(0));
    }
  });
  process.send?.({ urls: servers.map((s) => s.url) });
}

/** Sends a command and waits for the child's reply. */
function ask(child: ChildProcess, m: ToChild): Promise<ChildStats> {
  return new Promise((resolve) => {
    child.once('message', (reply) => resolve(reply as ChildStats));
    child.send(m);
  });
}

/** Speed of the prompt-token count on the request path: first sight (tokenizer) and cached. */
function tokenizerSpeed(): void {
  const words = 'the router classifies each prompt and sends it to an expert model that answers quickly'.split(' ');
  const prompts = Array.from({ length: 200 }, (_, i) => Array.from({ length: 350 }, (_, j) => words[(i * 7 + j * 13) % words.length]).join(' ') + ` #${i}`);
  countPromptTokens('warm up');
  const t0 = performance.now();
  let tokens = 0;
  for (const p of prompts) tokens += countPromptTokens(p);
  const first = (performance.now() - t0) / prompts.length;
  const t1 = performance.now();
  for (let r = 0; r < 10; r++) for (const p of prompts) countPromptTokens(p);
  const cached = (performance.now() - t1) / (prompts.length * 10);
  const chars = prompts.reduce((s, p) => s + p.length, 0) / prompts.length;
  console.log(`tokenizer: ${Math.round(chars)}-character prompts (${Math.round(tokens / prompts.length)} tokens): ${(first * 1e3).toFixed(0)} us each on first sight, ${(cached * 1e3).toFixed(1)} us cached`);
}

async function drive(): Promise<void> {
  tokenizerSpeed();
  const streams = Number(values.streams);
  const seconds = Number(values.seconds);
  const warmup = Number(values.warmup);
  const child = fork(fileURLToPath(import.meta.url), ['--serve', '--servers', String(values.servers), '--profile', values.profile], { execArgv: process.execArgv });
  const { urls } = await new Promise<{ urls: string[] }>((resolve) => child.once('message', (m) => resolve(m as { urls: string[] })));
  const body = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'Write a long story about a router.' }], max_tokens: 256, ignore_eos: true, stream: true });
  const request = (url: string): string =>
    `POST /v1/chat/completions HTTP/1.1\r\nhost: ${new URL(url).host}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  // A chunked response ends with an empty chunk: "0\r\n\r\n".
  const END = Buffer.from('\r\n0\r\n\r\n');
  let stop = false;
  let completed = 0;
  let failed = 0;
  const sockets: Socket[] = [];
  if (values.arrivals !== 'random' && values.arrivals !== 'lockstep') throw new Error(`--arrivals must be random or lockstep, got ${values.arrivals}`);
  // Users start within the first second. random: at seeded random times, as clients of a real
  // deployment do, so each engine's steps fall where its own load puts them. lockstep: user i at i ms
  // on server i mod N, which gives every engine the same load shifted by a millisecond: the engines
  // then step together and all their tokens fall due at once (the worst case for one process).
  const rng = createRng(Number(values.seed));
  const startMs = Array.from({ length: streams }, (_, i) => (values.arrivals === 'random' ? rng.next() : i / streams) * 1000);
  const user = async (i: number): Promise<void> => {
    const url = urls[i % urls.length];
    const { hostname, port } = new URL(url);
    await new Promise((r) => setTimeout(r, startMs[i]));
    const socket = connect(Number(port), hostname);
    sockets.push(socket);
    const text = request(url);
    await new Promise<void>((resolve) => {
      let tail = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        tail = Buffer.concat([tail, chunk.subarray(Math.max(0, chunk.length - END.length))]).subarray(-END.length);
        if (!tail.equals(END)) return;
        completed++;
        tail = Buffer.alloc(0);
        if (stop) resolve();
        else socket.write(text);
      });
      socket.on('error', () => {
        failed++;
        resolve();
      });
      socket.on('close', () => resolve());
      socket.write(text);
    });
  };
  const users = Array.from({ length: streams }, (_, i) => user(i));
  await new Promise((r) => setTimeout(r, warmup * 1000));
  const windows: ChildStats[] = [];
  for (let w = 0; w < Number(values.windows); w++) {
    await ask(child, { kind: 'reset' });
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const s = await ask(child, { kind: 'stats' });
    windows.push(s);
    console.log(
      `window ${w + 1}: ${s.activeStreams} streams open, ${Math.round(s.tokens / (s.wallMs / 1e3)).toLocaleString('en-US')} tokens/s; ` +
        `lag p50 ${s.lag.p50.toFixed(2)} ms, p99 ${s.lag.p99.toFixed(2)} ms, max ${s.lag.max.toFixed(2)} ms, ${s.lag.early} early, ${s.slips} schedule slips; CPU ${(s.cpuMs / s.wallMs).toFixed(2)} cores`,
    );
  }
  stop = true;
  await Promise.race([Promise.all(users), new Promise((r) => setTimeout(r, 15_000))]);
  child.send({ kind: 'stop' } satisfies ToChild);
  for (const socket of sockets) socket.destroy();
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`\n${streams} concurrent streams on ${urls.length} simulated servers (${values.profile}), ${values.arrivals} arrivals (seed ${values.seed}), ${windows.length} windows of ${seconds} s after ${warmup} s warm-up; requests completed ${completed}, failed ${failed}`);
  console.log(`token timing error vs engine schedule (median of windows): p50 ${median(windows.map((w) => w.lag.p50)).toFixed(2)} ms, p99 ${median(windows.map((w) => w.lag.p99)).toFixed(2)} ms (goal p99 < 5 ms)`);
  console.log(`server process CPU (median of windows): ${median(windows.map((w) => w.cpuMs / w.wallMs)).toFixed(2)} cores (goal < 1)`);
}

if (values.serve) await serveInChild();
else await drive();

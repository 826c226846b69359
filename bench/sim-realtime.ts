/**
 * Real-time capacity of the simulator: one process serving N concurrent streams (default 1,000,
 * spread over 4 simulated servers). A child process runs the servers; this process drives
 * closed-loop streaming clients with undici. Prints, for the server process, how late tokens were
 * written against the engine's schedule (p50/p99/max) and its CPU use in cores.
 * Goals: token timing error p99 < 5 ms and < 1 core.
 *
 *   npx tsx bench/sim-realtime.ts [--streams 1000] [--servers 4] [--seconds 15] [--warmup 3]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { startSimServers, type SimServer } from '../src/sim/index.js';

const { values } = parseArgs({
  options: {
    serve: { type: 'boolean', default: false },
    streams: { type: 'string', default: '1000' },
    servers: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '3' },
    profile: { type: 'string', default: 'h100-80gb:llama-3-8b:fp8:tp1' },
  },
});

interface ChildStats {
  lag: { count: number; p50: number; p99: number; max: number };
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
  const tokens = (): number => servers.reduce((s, x) => s + x.engine.stats().generationTokens, 0);
  process.on('message', (m: ToChild) => {
    if (m.kind === 'reset') {
      for (const s of servers) s.resetStats();
      since = performance.now();
      cpuBase = process.cpuUsage();
      tokenBase = tokens();
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
      };
      const stats: ChildStats = { lag, cpuMs: (cpu.user + cpu.system) / 1e3, wallMs: performance.now() - since, activeStreams: all.reduce((s, x) => s + x.activeStreams, 0), tokens: tokens() - tokenBase };
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

async function drive(): Promise<void> {
  const streams = Number(values.streams);
  const seconds = Number(values.seconds);
  const warmup = Number(values.warmup);
  const child = fork(fileURLToPath(import.meta.url), ['--serve', '--servers', String(values.servers), '--profile', values.profile], { execArgv: process.execArgv });
  const { urls } = await new Promise<{ urls: string[] }>((resolve) => child.once('message', (m) => resolve(m as { urls: string[] })));
  const pools = urls.map((u) => new Pool(u, { connections: Math.ceil(streams / urls.length) + 8, pipelining: 1 }));
  const body = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'Write a long story about a router.' }], max_tokens: 256, ignore_eos: true, stream: true });
  let stop = false;
  let completed = 0;
  let failed = 0;
  const user = async (i: number): Promise<void> => {
    const pool = pools[i % pools.length];
    // Stagger the start so the streams do not all begin in one step.
    await new Promise((r) => setTimeout(r, (i / streams) * 1000));
    while (!stop) {
      try {
        const res = await pool.request({ path: '/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json' }, body });
        for await (const _chunk of res.body) {
          // Consume the stream; the server side measures the timing.
        }
        completed++;
      } catch {
        failed++;
      }
    }
  };
  const users = Array.from({ length: streams }, (_, i) => user(i));
  await new Promise((r) => setTimeout(r, warmup * 1000));
  await ask(child, { kind: 'reset' });
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const s = await ask(child, { kind: 'stats' });
  stop = true;
  await Promise.race([Promise.all(users), new Promise((r) => setTimeout(r, 15_000))]);
  child.send({ kind: 'stop' } satisfies ToChild);
  await Promise.all(pools.map((p) => p.destroy()));
  const cores = s.cpuMs / s.wallMs;
  console.log(`${streams} concurrent streams on ${urls.length} simulated servers (${values.profile}), ${(s.wallMs / 1e3).toFixed(1)} s measured after ${warmup} s warm-up`);
  console.log(`streams open at sample time: ${s.activeStreams}; tokens written: ${s.tokens.toLocaleString('en-US')} (${Math.round(s.tokens / (s.wallMs / 1e3)).toLocaleString('en-US')}/s); requests completed ${completed}, failed ${failed}`);
  console.log(`token timing error vs engine schedule: p50 ${s.lag.p50.toFixed(2)} ms, p99 ${s.lag.p99.toFixed(2)} ms, max ${s.lag.max.toFixed(2)} ms (goal p99 < 5 ms)`);
  console.log(`server process CPU: ${cores.toFixed(2)} cores (goal < 1)`);
}

if (values.serve) await serveInChild();
else await drive();

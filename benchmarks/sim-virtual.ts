/**
 * Virtual-time capacity of the simulator: N closed-loop users (default 1,000) against 8 engines for
 * one simulated hour, all on one VirtualClock. Prints wall time, the simulated/real speed-up and the
 * work done. Goal: under 20 s of wall time for the default run.
 *
 *   npx tsx benchmarks/sim-virtual.ts [--users 1000] [--hours 1] [--engines 8] [--runs 3]
 */
import { parseArgs } from 'node:util';
import { createRng } from '../src/common/rng.js';
import { VirtualClock, createEngine, resolveProfile, type SimEngine } from '../src/sim/index.js';

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '1000' },
    hours: { type: 'string', default: '1' },
    engines: { type: 'string', default: '8' },
    runs: { type: 'string', default: '3' },
  },
});
const USERS = Number(values.users);
const HOURS = Number(values.hours);
const ENGINES = Number(values.engines);
const RUNS = Number(values.runs);
// A mixed fleet: four 8B experts on single H100s (FP8 and bf16, vLLM and TensorRT-LLM) and 70B groups.
const PROFILES = [
  'h100-80gb:llama-3-8b:fp8:tp1',
  'h100-80gb:llama-3-8b:bf16:tp1',
  'h100-80gb:llama-3-8b:fp8:tp1:trtllm',
  'a100-80gb:llama-3-8b:bf16:tp1',
  'h100-80gb:llama-3-70b:fp8:tp2',
  'h200:llama-3-70b:fp8:tp1:trtllm',
  'l40s:llama-3-8b:fp8:tp1',
  'h100-80gb:llama-3-70b:bf16:tp4',
];

interface RunResult {
  wallMs: number;
  requests: number;
  tokens: number;
  steps: number;
  events: number;
}

function runOnce(): RunResult {
  const clock = new VirtualClock();
  const engines: SimEngine[] = Array.from({ length: ENGINES }, (_, i) => createEngine(resolveProfile(PROFILES[i % PROFILES.length]), { clock, seed: i + 1 }));
  const rng = createRng(42);
  const endMs = HOURS * 3_600_000;
  let requests = 0;
  let tokens = 0;
  const noop = (): void => undefined;
  const user = (engine: SimEngine): void => {
    const send = (): void => {
      engine.submit(
        { promptTokens: 100 + Math.floor(rng.next() * 900), maxTokens: 512 },
        {
          onToken: noop,
          onFinish: (info) => {
            requests++;
            tokens += info.outputTokens;
            // Think time 0-2 s, then the next request, until the hour is over.
            if (info.atMs < endMs) clock.schedule(info.atMs + rng.next() * 2000, send);
          },
        },
      );
    };
    // Ramp-up: users arrive over the first 10 s.
    clock.schedule(rng.next() * 10_000, send);
  };
  for (let u = 0; u < USERS; u++) user(engines[u % ENGINES]);
  const t0 = performance.now();
  const events = clock.runUntil(endMs);
  const wallMs = performance.now() - t0;
  return { wallMs, requests, tokens, steps: engines.reduce((s, e) => s + e.stats().steps, 0), events };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results: RunResult[] = [];
for (let r = 0; r < RUNS; r++) {
  const res = runOnce();
  results.push(res);
  console.log(`run ${r + 1}: ${(res.wallMs / 1e3).toFixed(2)} s wall, ${res.requests.toLocaleString('en-US')} requests, ${res.tokens.toLocaleString('en-US')} tokens, ${res.steps.toLocaleString('en-US')} engine steps, ${res.events.toLocaleString('en-US')} events`);
}
const wall = median(results.map((r) => r.wallMs));
console.log(`\n${USERS} users x ${ENGINES} engines x ${HOURS} h simulated: median ${(wall / 1e3).toFixed(2)} s wall (goal < 20 s)`);
console.log(`speed-up over real time: ${((HOURS * 3_600_000) / wall).toFixed(0)}x; ${(median(results.map((r) => r.tokens)) / (wall / 1e3) / 1e6).toFixed(2)} M simulated tokens per wall second`);

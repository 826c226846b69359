import { VirtualClock, createEngine, resolveProfile } from 'expert-router';

// A simulated Llama 3 70B (fp8, two H100s) on a virtual clock: no waiting, no sockets.
const clock = new VirtualClock();
const engine = createEngine(resolveProfile('h100-80gb:llama-3-70b:fp8:tp2'), { clock, seed: 1 });

const ttftMs: number[] = [];
let lastFinishMs = 0;
for (let i = 0; i < 64; i++) {
  let first = true;
  engine.submit(
    { promptTokens: 512, maxTokens: 128, ignoreEos: true },
    {
      onToken: (_count, atMs) => {
        if (first) ttftMs.push(atMs);
        first = false;
      },
      onFinish: (info) => {
        lastFinishMs = Math.max(lastFinishMs, info.atMs);
      },
    },
  );
}
clock.run(); // runs every event: minutes of GPU time in milliseconds of wall time

ttftMs.sort((a, b) => a - b);
console.log(`64 requests done at ${(lastFinishMs / 1000).toFixed(2)} s of virtual time; median TTFT ${ttftMs[32].toFixed(0)} ms`);

import { loadPrompts, runBench, startSimServer, toSummary } from 'expert-router';

// The target can be any OpenAI or Triton endpoint; a simulated server here.
const server = await startSimServer({ profile: 'h100-80gb:llama-3.2-1b:bf16:tp1' });

const result = await runBench({
  target: server.url,
  load: { mode: 'closed', users: [4] }, // one level: 4 closed-loop users
  requests: 20, // measured requests per level (or durationMs)
  prompts: await loadPrompts({ kind: 'synthetic', inputTokens: { mean: 128, spread: 0 }, count: 40 }),
  maxTokens: 16,
  slo: { ttft_ms: 500, tpot_ms: 50 },
});
const summary = toSummary(result); // the summary.json object, schema in src/harness/summary-schema.ts
const level = summary.levels[0];
console.log(level.completed, level.errors, (level.ttft_ms.p50 ?? 0) > 0, level.output_tokens_per_s > 0, level.slo_attainment);

await server.close();

/**
 * The demo (`npm start`): the built-in classifier, four simulated experts and the gateway on free
 * loopback ports; a few prompts routed with the reasons shown; a short live sweep measured through
 * the gateway and directly; a summary table and the HTML report. Everything it starts it stops.
 */
import { request } from 'undici';
import { createProgressReporter, type LevelSummary } from '../harness/index.js';
import { defaultModel, readDefaultCorpus } from '../classifier/index.js';
import { alignColumns } from '../common/text-table.js';
import { imbalanceFinding, routingOverhead } from './findings.js';
import { measureLive, startLiveDeployment } from './live.js';
import { writeExperimentOutputs } from './outputs.js';
import { ClassifierCache, planConfig } from './plan.js';
import { loadPreset } from './presets.js';
import { configResult } from './runner.js';
import type { ExperimentResult } from './types.js';

export interface DemoOptions {
  /** A quick pass (two small levels of a few seconds), for CI. */
  short: boolean;
  out: string;
  signal?: AbortSignal;
  write?: (text: string) => void;
}

/** One prompt a label, written for the demo. */
const SAMPLE_PROMPTS = [
  'My Express handler throws "TypeError: Cannot read properties of undefined (reading \'id\')" when the body is empty. How do I guard it?',
  'A train leaves at 9:40 and covers 210 km at 84 km/h. At what time does it arrive?',
  'Is metformin still first-line for type 2 diabetes in patients with reduced kidney function?',
  'My landlord kept the whole deposit without listing any damages. Can I sue in small claims court?',
  'Write a short poem about a lighthouse keeper who talks to the fog.',
  'What are good day trips from Lisbon by train?',
];

const pad = (s: string, n: number): string => (s.length >= n ? s.slice(0, n) : s + ' '.repeat(n - s.length));
const num = (v: number | null, digits = 0): string => (v === null ? '-' : v.toFixed(digits));

function summaryTable(levels: readonly LevelSummary[], direct: readonly LevelSummary[] | undefined): string {
  const head = ['users', 'req/s', 'tok/s', 'TTFT p50', 'TTFT p99', 'TPOT p50', 'E2E p50', 'errors', 'gateway +TTFT p50'];
  const rows = levels.map((l, i) => {
    const d = direct?.[i];
    const added = d && l.ttft_ms.p50 !== null && d.ttft_ms.p50 !== null ? `${(l.ttft_ms.p50 - d.ttft_ms.p50).toFixed(2)} ms` : '-';
    return [String(l.users), num(l.requests_per_s, 1), num(l.output_tokens_per_s), `${num(l.ttft_ms.p50)} ms`, `${num(l.ttft_ms.p99)} ms`, `${num(l.tpot_ms.p50, 1)} ms`, `${num(l.e2e_ms.p50)} ms`, String(l.errors), added];
  });
  const rule = head.map((h, c) => '-'.repeat(Math.max(h.length, ...rows.map((r) => r[c].length))));
  return alignColumns([head, rule, ...rows]).join('\n');
}

export async function runDemo(opts: DemoOptions): Promise<{ report: string }> {
  const write = opts.write ?? ((text: string) => void process.stdout.write(text));
  const spec = loadPreset('demo');
  if (opts.short) Object.assign(spec.load, { users: [1, 4], duration_s: 2, warmup_s: 1, ramp_up_s: 0, max_tokens: 32 });

  write('Expert Router demo: prompts classified and routed to simulated Llama 3 experts\n\n');
  const t0 = performance.now();
  const classifier = defaultModel();
  write(`1. Classifier: the built-in model (${classifier.k} clusters: ${[...new Set(classifier.clusterLabels)].join(', ')}), ready in ${(performance.now() - t0).toFixed(0)} ms\n`);

  const plan = planConfig(spec.configs[0], 0, new ClassifierCache(readDefaultCorpus, spec.seed));
  const deployment = await startLiveDeployment(plan, spec.seed);
  try {
    write('2. Simulated experts and the gateway, on loopback:\n');
    plan.experts.forEach((e, i) => {
      write(`   ${pad(e.name, 10)} serves ${pad(e.match.join(', '), 18)} ${e.backend.kind === 'sim' ? e.backend.deployment.id : ''}  ${deployment.experts.urls[i].join(' ')}\n`);
    });
    write(`   gateway    ${deployment.target}\n\n3. Where prompts go, and why (POST ${deployment.target}/v1/route):\n`);
    for (const prompt of SAMPLE_PROMPTS) {
      if (opts.signal?.aborted) break;
      const res = await request(`${deployment.target}/v1/route`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'auto', messages: [{ role: 'user', content: prompt }] }),
        signal: opts.signal,
      });
      const d = (await res.body.json()) as { expert: string; label: string; score: number; margin: number; classify_ms: number };
      write(`   -> ${pad(d.expert, 10)} label ${pad(d.label, 9)} score ${d.score.toFixed(2)} margin ${d.margin.toFixed(2)} (${(d.classify_ms * 1000).toFixed(0)} µs)  "${pad(prompt, 60)}..."\n`);
    }

    write(`\n4. Live sweep: ${spec.load.users.join(', ')} users, ${spec.load.duration_s} s each after ${spec.load.warmup_s} s warm-up, through the gateway then direct\n`);
    const progress = createProgressReporter();
    const texts = readDefaultCorpus().map((e) => e.text);
    const live = await measureLive(deployment, plan, spec, texts, { onProgress: (_c, _p, s) => progress.update(s) }, opts.signal);
    progress.stop();

    write(`\n5. Through the gateway (${plan.name}, ${plan.gpus} simulated GPUs):\n${summaryTable(live.levels, live.direct_levels)}\n`);
    const config = configResult(plan, live);
    write(`   expert shares: ${config.expert_shares.map((s) => `${s.expert} ${(s.share * 100).toFixed(0)}%`).join(', ')}\n`);
    const result: ExperimentResult = {
      name: spec.name,
      clock: 'live',
      started_at: new Date(Date.now() - (performance.now() - t0)).toISOString(),
      finished_at: new Date().toISOString(),
      configs: [config],
      findings: [routingOverhead([config], null), imbalanceFinding([config])],
      classify_us_p50: null,
    };
    const files = await writeExperimentOutputs(opts.out, spec, result);
    write(`\n6. Report: ${files.report}\n   Summary: ${files.summary}\n`);
    write('\nWith real backends (vLLM, TGI, llama.cpp, Ollama, Triton/TensorRT-LLM):\n  npx expert-router serve --config examples/gateway.yaml\n');
    write('Reproduce the paper\'s study in virtual time:\n  npx expert-router experiment --preset paper\n');
    return files;
  } finally {
    await deployment.close();
  }
}

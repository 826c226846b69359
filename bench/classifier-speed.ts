/**
 * Classifier speed: training on 20,000 prompts with k = 16 (target < 20 s), classifying a 1 KB prompt
 * (target <= 20 us median on one core, >= 50,000/s), model size on disk and in memory. The corpus is built
 * from ../shared/data text (speed only; the default model never trains on it).
 *   npx tsx bench/classifier-speed.ts [--prompts 20000] [--k 16] [--rounds 31]
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { defaultModel, loadModel, saveModel, trainClassifier, type ClassifierModel } from '../src/classifier/index.js';
import { parseCsv } from '../src/classifier/csv.js';

const { values } = parseArgs({ options: { prompts: { type: 'string', default: '20000' }, k: { type: 'string', default: '16' }, rounds: { type: 'string', default: '31' } } });
const PROMPTS = Number(values.prompts);
const K = Number(values.k);
const ROUNDS = Number(values.rounds);
const SHARED = process.env.SHARED_DATA ?? fileURLToPath(new URL('../../shared/data/', import.meta.url));

const read = (path: string) => readFileSync(join(SHARED, path), 'utf8');
const jsonl = (path: string) =>
  read(path)
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, string>);
const subjects = Object.keys(JSON.parse(read('mmlu/subjects.json')) as Record<string, unknown>).sort();
const pubmed = Object.values(JSON.parse(read('pubmedqa/ori_pqal.json')) as Record<string, { QUESTION: string; CONTEXTS: string[] }>);

/** Round-robin over the sources, so every slice of the corpus mixes them. */
function interleave(lists: string[][], n: number): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < n && lists.some((l) => i < l.length); i++) for (const l of lists) if (i < l.length && out.length < n) out.push(l[i]);
  return out;
}

const corpus = interleave(
  [
    jsonl('gsm8k/train.jsonl').map((r) => r.question),
    subjects.flatMap((s) => parseCsv(read(`mmlu/test/${s}_test.csv`)).map((r) => r.fields[0])),
    pubmed.map((r) => r.QUESTION),
    jsonl('humaneval/HumanEval.jsonl').map((r) => r.prompt),
  ],
  PROMPTS,
).map((text) => ({ text }));

// 1 KB prompts: PubMedQA abstracts and HumanEval stubs, cut to exactly 1024 characters.
const kilobyte = [...pubmed.slice(0, 48).map((r) => r.CONTEXTS.join(' ')), ...jsonl('humaneval/HumanEval.jsonl').map((r) => r.prompt + r.canonical_solution)]
  .filter((t) => t.length >= 1024)
  .slice(0, 64)
  .map((t) => t.slice(0, 1024));
const short = corpus.slice(0, 64).map((e) => e.text);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Median over rounds of the mean time per prediction (us); each round predicts every text `reps` times. */
function timePredict(model: ClassifierModel, texts: string[], reps: number): number {
  let sink = 0;
  for (let i = 0; i < 2000; i++) sink += model.predict(texts[i % texts.length]).cluster;
  const perRound: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) for (const t of texts) sink += model.predict(t).cluster;
    perRound.push(Number(process.hrtime.bigint() - t0) / 1000 / (reps * texts.length));
  }
  if (sink < 0) console.log(sink);
  return median(perRound);
}

const fmt = (x: number, d = 2) => x.toFixed(d);
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

console.log(`corpus: ${corpus.length} prompts from ../shared/data (GSM8K train, MMLU test, PubMedQA, HumanEval), mean ${fmt(corpus.reduce((s, e) => s + e.text.length, 0) / corpus.length, 0)} chars`);
const t0 = performance.now();
const model = trainClassifier(corpus, { k: K, seed: 42 });
const trainS = (performance.now() - t0) / 1000;
console.log(`train k=${K}, restarts=${model.metadata.restarts}: ${fmt(trainS)} s (target < 20 s, ratio ${fmt(trainS / 20)}), ${model.metadata.featureCount} features, objective ${fmt(model.metadata.objective, 4)}`);
console.log(`cluster sizes: ${model.metadata.clusters.map((c) => c.size).join(' ')}`);

const dir = mkdtempSync(join(tmpdir(), 'classifier-speed-'));
try {
  const path = join(dir, 'model.json');
  saveModel(model, path);
  const before = process.memoryUsage();
  const t1 = performance.now();
  const loaded = loadModel(path);
  const loadMs = performance.now() - t1;
  const after = process.memoryUsage();
  console.log(
    `artifact: ${mib(statSync(path).size)} on disk, loaded in ${fmt(loadMs, 0)} ms; model arrays ${mib(loaded.memoryBytes())}; ` +
      `process growth on load: heap ${mib(after.heapUsed - before.heapUsed)}, array buffers ${mib(after.arrayBuffers - before.arrayBuffers)}`,
  );

  const usKb = timePredict(loaded, kilobyte, 20);
  const usShort = timePredict(loaded, short, 20);
  console.log(`predict 1 KB prompt, k=${K}: median ${fmt(usKb)} us (target <= 20 us, ratio ${fmt(usKb / 20)}), ${fmt(1e6 / usKb, 0)} prompts/s on one core`);
  console.log(`predict short prompt (mean ${fmt(short.reduce((s, t) => s + t.length, 0) / short.length, 0)} chars), k=${K}: median ${fmt(usShort)} us`);
  const def = defaultModel();
  const usDefault = timePredict(def, kilobyte, 20);
  console.log(`default model (k=${def.k}, ${mib(def.memoryBytes())} arrays): 1 KB prompt median ${fmt(usDefault)} us, ${fmt(1e6 / usDefault, 0)} prompts/s`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Classifier speed: training on 20,000 prompts with k = 16 (target < 20 s), classifying a 1 KB prompt
 * (target <= 20 us median on one core, >= 50,000/s), model size on disk and in memory. The corpus is built
 * from ../shared/data text (speed only; the default model never trains on it).
 * A 100 KB prompt shows the text budget at work: its cost must stay that of the budget's first characters.
 * The shipped default model (linear, 6 labels) is timed on 1 KB prompts in English, Chinese and Japanese.
 *   npx tsx benchmarks/classifier-speed.ts [--prompts 20000] [--k 16] [--rounds 31] [--text-budget N] [--ngram-budget N]
 * (the budgets override the feature settings of the k-model, to compare settings; the default model keeps its own).
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { defaultModel, Featurizer, loadModel, readDefaultCorpus, saveModel, trainClassifier } from '../src/classifier/index.js';
import { parseCsv } from '../src/classifier/csv.js';

const { values } = parseArgs({
  options: {
    prompts: { type: 'string', default: '20000' },
    k: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '31' },
    'text-budget': { type: 'string' },
    'ngram-budget': { type: 'string' },
  },
});
const PROMPTS = Number(values.prompts);
const K = Number(values.k);
const ROUNDS = Number(values.rounds);
const BUDGETS = {
  ...(values['text-budget'] === undefined ? {} : { textBudget: Number(values['text-budget']) }),
  ...(values['ngram-budget'] === undefined ? {} : { ngramBudget: Number(values['ngram-budget']) }),
};
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
// 100 KB prompts: the 1 KB ones followed by PubMedQA abstracts up to 102,400 characters.
const longTail = pubmed.map((r) => r.CONTEXTS.join(' ')).join(' ');
const huge = kilobyte.slice(0, 8).map((t) => (t + ' ' + longTail).slice(0, 102_400));
const short = corpus.slice(0, 64).map((e) => e.text);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface Timing {
  /** Median over rounds of the wall time per prediction, us. */
  wall: number;
  /** The same in CPU time of this process (less sensitive to other processes on a shared machine). */
  cpu: number;
  /** Fastest round's wall time per prediction: the figure on an idle machine. */
  best: number;
}

/** Each round predicts every text `reps` times; per-prediction times are medians over rounds. */
function timePredict(model: { predict(text: string): { cluster: number } }, texts: string[], reps: number): Timing {
  let sink = 0;
  for (let i = 0; i < 3000; i++) sink += model.predict(texts[i % texts.length]).cluster;
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) for (const t of texts) sink += model.predict(t).cluster;
    const count = reps * texts.length;
    wall.push(Number(process.hrtime.bigint() - t0) / 1000 / count);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / count);
  }
  if (sink < 0) console.log(sink);
  return { wall: median(wall), cpu: median(cpu), best: Math.min(...wall) };
}

const cpuSeconds = (since: NodeJS.CpuUsage) => {
  const c = process.cpuUsage(since);
  return (c.user + c.system) / 1e6;
};
const fmt = (x: number, d = 2) => x.toFixed(d);
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

console.log(`corpus: ${corpus.length} prompts from ../shared/data (GSM8K train, MMLU test, PubMedQA, HumanEval), mean ${fmt(corpus.reduce((s, e) => s + e.text.length, 0) / corpus.length, 0)} chars`);
console.log(`machine: ${cpus().length} cores, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} (figures scale with it)`);
const t0 = performance.now();
const c0 = process.cpuUsage();
const model = trainClassifier(corpus, { k: K, seed: 42, features: BUDGETS });
const trainS = (performance.now() - t0) / 1000;
console.log(
  `train k=${K}, restarts=${model.metadata.restarts}: ${fmt(trainS)} s wall, ${fmt(cpuSeconds(c0))} s CPU (target < 20 s, ratio ${fmt(trainS / 20)}); ` +
    `${model.metadata.featureCount} features, objective ${fmt(model.metadata.objective, 4)}`,
);
console.log(`cluster sizes: ${model.metadata.clusters.map((c) => c.size).join(' ')}`);

const dir = mkdtempSync(join(tmpdir(), 'classifier-speed-'));
try {
  const path = join(dir, 'model.json');
  saveModel(model, path);
  const t1 = performance.now();
  const loaded = loadModel(path);
  const loadMs = performance.now() - t1;
  // The arrays a loaded model holds (exact); process-level figures here would mostly show training garbage.
  console.log(`artifact: ${mib(statSync(path).size)} on disk, loaded in ${fmt(loadMs, 0)} ms; a loaded model holds ${mib(loaded.memoryBytes())} of arrays`);

  const show = (what: string, t: Timing) =>
    `${what}: median ${fmt(t.wall)} us wall, ${fmt(t.cpu)} us CPU, best round ${fmt(t.best)} us; ${fmt(1e6 / t.wall, 0)} prompts/s on one core (target <= 20 us, ratio ${fmt(t.wall / 20)})`;
  console.log(show(`predict 1 KB prompt, k=${K}`, timePredict(loaded, kilobyte, 20)));
  // The featurizer alone (hashing and counting, no scoring): the share of predict that no centroid layout or
  // k can change.
  const featurizer = new Featurizer(loaded.metadata.features);
  const scanOnly = {
    predict: (text: string) => {
      const n = featurizer.scan(text);
      featurizer.clear(n);
      return { cluster: n };
    },
  };
  const { textBudget, ngramBudget } = loaded.metadata.features;
  console.log(`text budget: words from the first ${textBudget} chars, word pairs and char n-grams from the first ${ngramBudget}`);
  console.log(show('featurize only (no scoring), 1 KB prompt', timePredict(scanOnly, kilobyte, 20)));
  console.log(show(`predict short prompt (mean ${fmt(short.reduce((s, t) => s + t.length, 0) / short.length, 0)} chars), k=${K}`, timePredict(loaded, short, 20)));
  console.log(show(`predict 100 KB prompt, k=${K}`, timePredict(loaded, huge, 2)));
  const def = defaultModel();
  console.log(show(`default ${def.metadata.kind} model (k=${def.k}, ${mib(def.memoryBytes())} arrays), 1 KB prompt`, timePredict(def, kilobyte, 20)));
  // 1 KB (UTF-8 bytes, about 340 characters) of Chinese and of Japanese from the project corpus: characters and
  // character pairs instead of words. A 1,024-character block (about 3 KB) is shown too.
  const utf8Prefix = (text: string, bytes: number) => {
    let end = 0;
    for (let used = 0; end < text.length; end++) {
      used += Buffer.byteLength(text[end]);
      if (used > bytes) break;
    }
    return text.slice(0, end);
  };
  for (const lang of ['zh', 'ja']) {
    const texts = readDefaultCorpus().filter((e) => e.lang === lang).map((e) => e.text);
    const blocks: string[] = [];
    for (let i = 0, block = ''; i < texts.length && blocks.length < 32; i++) {
      block += texts[i];
      if (block.length >= 1024) {
        blocks.push(block.slice(0, 1024));
        block = '';
      }
    }
    if (blocks.length === 0) continue;
    console.log(show(`default model, 1 KB ${lang} prompt (${blocks.length} from the corpus)`, timePredict(def, blocks.map((b) => utf8Prefix(b, 1024)), 20)));
    console.log(show(`default model, 1,024 ${lang} characters`, timePredict(def, blocks, 20)));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Routing quality of the shipped default model (data/models/default.json):
 * - the development set (data/corpus/dev, never trained on): accuracy per label (target >= 0.92 each), on its
 *   non-English part (target >= 0.85), per language and prompt length, and the calibration (ECE);
 * - public prompt sets it never saw (../shared/data, target >= 0.90 each): HumanEval -> code, GSM8K test ->
 *   math, PubMedQA questions -> medicine, MMLU law subjects (question text only) -> law;
 * - the model's memory; with --train, the time to train it from the corpus and the same figures for the
 *   other supervised learner (centroids per label), the comparison the default was chosen by.
 * Settings are tuned against the development set only, never against the public sets' rows.
 *   npx tsx benchmarks/classifier-accuracy.ts [--train]
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  buildDefaultModel,
  corpusDigest,
  defaultModel,
  evaluate,
  readDefaultCorpus,
  readDevSet,
  trainClassifier,
  type ClassifierModel,
  type EvalReport,
} from '../src/classifier/index.js';
import { parseCsv } from '../src/classifier/csv.js';
import { DEFAULT_MODEL_OPTIONS } from '../src/classifier/default-model.js';

const { values } = parseArgs({ options: { train: { type: 'boolean', default: false } } });
const SHARED = process.env.SHARED_DATA ?? fileURLToPath(new URL('../../shared/data/', import.meta.url));
const PUBLIC_TARGET = 0.9;
const DEV_LABEL_TARGET = 0.92;
const DEV_NON_ENGLISH_TARGET = 0.85;

const jsonl = (path: string) =>
  readFileSync(`${SHARED}/${path}`, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, string>);

const mmluQuestions = (subject: string) => parseCsv(readFileSync(`${SHARED}/mmlu/test/${subject}_test.csv`, 'utf8')).map((r) => r.fields[0]);

const sources: Array<{ name: string; label: string; texts: string[] }> = [
  { name: 'HumanEval prompts', label: 'code', texts: jsonl('humaneval/HumanEval.jsonl').map((r) => r.prompt) },
  { name: 'GSM8K test questions', label: 'math', texts: jsonl('gsm8k/test.jsonl').map((r) => r.question) },
  {
    name: 'PubMedQA questions',
    label: 'medicine',
    texts: Object.values(JSON.parse(readFileSync(`${SHARED}/pubmedqa/ori_pqal.json`, 'utf8')) as Record<string, { QUESTION: string }>).map((r) => r.QUESTION),
  },
  { name: 'MMLU law (3 subjects)', label: 'law', texts: ['professional_law', 'jurisprudence', 'international_law'].flatMap(mmluQuestions) },
];

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const mark = (ok: boolean) => (ok ? 'pass' : 'FAIL');
const dev = readDevSet();

function devFigures(name: string, model: ClassifierModel): { report: EvalReport; pass: boolean } {
  const report = evaluate(model, dev);
  let pass = report.non_english.accuracy >= DEV_NON_ENGLISH_TARGET;
  console.log(`\n${name} on the development set (${report.n} prompts): accuracy ${pct(report.accuracy)}, macro-F1 ${report.macro_f1.toFixed(4)}`);
  console.log(`${'label'.padEnd(10)}  recall  precision      n  target ${pct(DEV_LABEL_TARGET)}`);
  for (const [label, s] of Object.entries(report.per_label)) {
    pass &&= s.recall >= DEV_LABEL_TARGET;
    console.log(`${label.padEnd(10)}  ${pct(s.recall).padStart(6)}  ${pct(s.precision).padStart(9)}  ${String(s.support).padStart(5)}  ${mark(s.recall >= DEV_LABEL_TARGET)}`);
  }
  console.log(`non-English: ${pct(report.non_english.accuracy)} of ${report.non_english.n} (target ${pct(DEV_NON_ENGLISH_TARGET)}: ${mark(report.non_english.accuracy >= DEV_NON_ENGLISH_TARGET)})`);
  console.log(`by language: ${Object.entries(report.by_lang).map(([l, s]) => `${l} ${pct(s.accuracy)} (${s.n})`).join(', ')}`);
  console.log(`by length:   ${Object.entries(report.by_length).map(([l, s]) => `${l} ${pct(s.accuracy)} (${s.n})`).join(', ')}`);
  const c = report.calibration;
  console.log(`calibration: ECE ${c.ece.toFixed(4)}, mean confidence ${pct(c.meanConfidence)} vs accuracy ${pct(c.accuracy)}`);
  return { report, pass };
}

console.log(`machine: ${cpus().length} cores, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
const model = defaultModel();
const m = model.metadata;
const stale = m.corpusDigest !== corpusDigest();
console.log(
  `default model: ${m.kind}, ${m.corpusSize} training prompts, ${m.featureCount} features, ${(model.memoryBytes() / 2 ** 20).toFixed(1)} MiB of arrays` +
    (stale ? ' (STALE: the corpus changed since it was built; run train --data data/corpus --out data/models/default.json)' : ''),
);

let allPass = devFigures('default model', model).pass;
console.log(`\n${'public source -> label'.padEnd(34)}     n  accuracy  target  predicted labels`);
for (const s of sources) {
  const counts: Record<string, number> = {};
  for (const text of s.texts) {
    const label = model.predict(text).label;
    counts[label] = (counts[label] ?? 0) + 1;
  }
  const accuracy = (counts[s.label] ?? 0) / s.texts.length;
  allPass &&= accuracy >= PUBLIC_TARGET;
  const spread = Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([l, n]) => `${l} ${n}`)
    .join(', ');
  console.log(`${`${s.name} -> ${s.label}`.padEnd(34)} ${String(s.texts.length).padStart(5)}  ${pct(accuracy).padStart(8)}  ${mark(accuracy >= PUBLIC_TARGET)}    ${spread}`);
}

if (values.train) {
  const t0 = performance.now();
  const rebuilt = buildDefaultModel();
  const seconds = (performance.now() - t0) / 1000;
  console.log(`\ntraining the default model from the corpus (${rebuilt.metadata.corpusSize} prompts): ${seconds.toFixed(1)} s (target < 60 s)`);
  const t1 = performance.now();
  const centroid = trainClassifier(readDefaultCorpus(), { ...DEFAULT_MODEL_OPTIONS, model: 'centroid' });
  console.log(`centroids per label, same corpus: trained in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
  devFigures('centroids per label (the other supervised learner)', centroid);
}
console.log(allPass ? '\nevery target is met' : '\nsome target is missed');

/**
 * The embedding tier on the dev set (data/corpus/dev, never trained on), against the lexical tier in the
 * same run: the share of prompts escalated at the threshold, accuracy of lexical vs cascade (overall, English,
 * other languages, per label) as a ratio, a threshold x weight sweep (what the defaults were tuned on), the
 * latency an escalated prompt adds (p50/p99 through the cascade, cache off, one prompt at a time), and the
 * in-process model's memory. Two providers: in-process USE lite with the shipped head, and remote against
 * the simulator's /v1/embeddings with a head trained against it here from the corpus.
 *   npx tsx benchmarks/embedding-tier.ts [--threshold 0.7] [--weight 0.7] [--timed 200] [--head <in-process head>] [--skip-in-process] [--skip-remote]
 */
import { parseArgs } from 'node:util';
import { ClassifierError, defaultModel, readDefaultCorpus, readDevSet, type ClassifierModel, type LabelledText, type Prediction } from '../src/classifier/index.js';
import { buildDefaultModel } from '../src/classifier/default-model.js';
import {
  EMBEDDING_DEFAULTS,
  EmbeddingCascade,
  LabelJoin,
  RemoteEmbeddingProvider,
  USE_LITE_HEAD_PATH,
  UseLiteProvider,
  buildHead,
  embedTexts,
  loadHead,
  type EmbeddingHead,
  type EmbeddingProvider,
} from '../src/classifier/embedding/index.js';
import { startSimServer } from '../src/sim/index.js';

const { values: args } = parseArgs({
  options: {
    threshold: { type: 'string', default: String(EMBEDDING_DEFAULTS.threshold) },
    weight: { type: 'string', default: String(EMBEDDING_DEFAULTS.weight) },
    timed: { type: 'string', default: '200' },
    head: { type: 'string', default: USE_LITE_HEAD_PATH },
    'skip-in-process': { type: 'boolean', default: false },
    'skip-remote': { type: 'boolean', default: false },
  },
});
const THRESHOLD = Number(args.threshold);
const WEIGHT = Number(args.weight);
const TIMED = Number(args.timed);

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MB`;
const quantile = (sorted: readonly number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

/** The shipped lexical model, or (before it is built) the same model trained from the corpus now. */
function lexicalModel(): ClassifierModel {
  try {
    return defaultModel();
  } catch (err) {
    if (!(err instanceof ClassifierError) || err.code !== 'file_unreadable') throw err;
    console.log('no shipped lexical model: training it from the corpus for this run');
    return buildDefaultModel();
  }
}

const model = lexicalModel();
const dev = readDevSet();
const lexical = dev.map((e) => model.predict(e.text));
const isEn = (e: LabelledText): boolean => (e.lang ?? 'en') === 'en';
const escalated = lexical.map((p) => p.confidence < THRESHOLD);
console.log(`dev set: ${dev.length} prompts (${dev.filter(isEn).length} English), labels ${[...new Set(dev.map((e) => e.label))].join(', ')}`);
console.log(`lexical model: ${model.metadata.corpusSize} training prompts; threshold ${THRESHOLD}, weight ${WEIGHT}`);
console.log(
  `escalated at confidence < ${THRESHOLD}: ${pct(escalated.filter(Boolean).length / dev.length)} of the dev set ` +
    `(English ${pct(dev.filter((e, i) => isEn(e) && escalated[i]).length / dev.filter(isEn).length)}, ` +
    `other languages ${pct(dev.filter((e, i) => !isEn(e) && escalated[i]).length / Math.max(1, dev.filter((e) => !isEn(e)).length))}); ` +
    `lexical accuracy on the escalated ones ${pct(dev.filter((e, i) => escalated[i] && lexical[i].label === e.label).length / Math.max(1, escalated.filter(Boolean).length))}`,
);

interface Scored {
  all: number;
  en: number;
  other: number;
  perLabel: Record<string, number>;
}

function score(predicted: readonly string[], subset: (e: LabelledText) => boolean = () => true): Scored {
  const acc = (keep: (e: LabelledText) => boolean): number => {
    let n = 0;
    let right = 0;
    dev.forEach((e, i) => {
      if (!subset(e) || !keep(e)) return;
      n++;
      if (predicted[i] === e.label) right++;
    });
    return n > 0 ? right / n : NaN;
  };
  const perLabel: Record<string, number> = {};
  for (const label of [...new Set(dev.map((e) => e.label!))].sort()) perLabel[label] = acc((e) => e.label === label);
  return { all: acc(() => true), en: acc(isEn), other: acc((e) => !isEn(e)), perLabel };
}

/** The cascade's labels for every dev prompt at (threshold, weight), from precomputed head probabilities. */
function cascadeLabels(join: LabelJoin, head: EmbeddingHead, probs: Float64Array[], threshold: number, weight: number): string[] {
  return lexical.map((p: Prediction, i) => (p.confidence < threshold && head.reads(dev[i].text) ? join.combine(p, probs[i], weight).label : p.label));
}

const lexicalLabels = lexical.map((p) => p.label);

async function measure(name: string, provider: EmbeddingProvider, head: EmbeddingHead, englishOnly: boolean): Promise<void> {
  console.log(`\n== ${name}: head ${head.provider} (${head.model}, scripts: ${head.scripts}), ${head.metadata.examples} training prompts`);
  const read = dev.filter((e, i) => lexical[i].confidence < THRESHOLD && head.reads(e.text)).length;
  console.log(`escalated (below the threshold, in a script the head reads): ${pct(read / dev.length)} of the whole dev set`);
  const subset = englishOnly ? isEn : () => true;
  const t0 = performance.now();
  const vectors = await embedTexts(provider, dev.map((e) => e.text), { maxChars: head.maxChars, batchSize: 16 });
  console.log(`embedded the dev set in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const probs = vectors.map((v) => head.probabilities(v));
  const join = new LabelJoin(model.clusterLabels, head.labels);
  const headAlone = probs.map((p) => head.labels[p.indexOf(Math.max(...p))]);
  const lex = score(lexicalLabels, subset);
  const cas = score(cascadeLabels(join, head, probs, THRESHOLD, WEIGHT), subset);
  const alone = score(headAlone, subset);
  const scope = englishOnly ? 'English part' : 'whole dev set';
  console.log(`accuracy on the ${scope}: lexical ${pct(lex.all)}, cascade ${pct(cas.all)} (${(cas.all / lex.all).toFixed(3)}x lexical), head alone ${pct(alone.all)}`);
  if (!englishOnly) console.log(`  English: lexical ${pct(lex.en)}, cascade ${pct(cas.en)}; other languages: lexical ${pct(lex.other)}, cascade ${pct(cas.other)}`);
  else {
    const whole = score(cascadeLabels(join, head, probs, THRESHOLD, WEIGHT));
    const lexWhole = score(lexicalLabels);
    console.log(`  other languages (USE lite is English only): lexical ${pct(lexWhole.other)}, cascade ${pct(whole.other)}`);
  }
  console.log(`  per label (lexical -> cascade): ${Object.keys(lex.perLabel).map((l) => `${l} ${pct(lex.perLabel[l])} -> ${pct(cas.perLabel[l])}`).join(', ')}`);
  const thresholds = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
  const weights = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8];
  console.log(`  sweep, cascade accuracy on the ${scope} (rows: threshold, escalated share; columns: weight ${weights.join(' / ')})`);
  for (const t of thresholds) {
    const share = dev.filter((e, i) => subset(e) && lexical[i].confidence < t && head.reads(e.text)).length / dev.filter(subset).length;
    console.log(`    ${t.toFixed(1)}  ${pct(share).padStart(6)}  ${weights.map((w) => pct(score(cascadeLabels(join, head, probs, t, w), subset).all).padStart(6)).join(' ')}`);
  }
  // The real cascade, cache off; added latency: one escalated prompt at a time.
  const cascade = new EmbeddingCascade({
    provider,
    head,
    clusterLabels: model.clusterLabels,
    threshold: THRESHOLD,
    timeoutMs: 60_000,
    maxPending: 1,
    cacheSize: 0,
    weight: WEIGHT,
  });
  // What the tier adds to a prompt it does not escalate: the synchronous triage.
  const confident = dev.map((e, i) => ({ text: e.text, p: lexical[i] })).filter(({ p }) => p.confidence >= THRESHOLD);
  const rounds = 200;
  const t1 = performance.now();
  let kept = 0;
  for (let r = 0; r < rounds; r++) for (const { text, p } of confident) if (cascade.triage(p, text) !== 'escalate') kept++;
  const triageNs = ((performance.now() - t1) * 1e6) / (rounds * confident.length);
  console.log(`a prompt that is not escalated: the tier adds one triage, ${triageNs.toFixed(0)} ns (${kept / rounds} of ${confident.length} prompts at or above the threshold)`);
  const timeDecisions = async (c: EmbeddingCascade, items: { e: LabelledText; p: Prediction }[]): Promise<string> => {
    const ms: number[] = [];
    for (const { e, p } of items) {
      const d = await c.decide(e.text, p);
      if (d.reason !== 'embedded') throw new Error(`unexpected ${d.reason} (${d.errorCode})`);
      ms.push(d.embeddingMs);
    }
    ms.sort((x, y) => x - y);
    return `${ms.length} prompts, one at a time: p50 ${quantile(ms, 0.5).toFixed(1)} ms, p99 ${quantile(ms, 0.99).toFixed(1)} ms`;
  };
  const items = dev.map((e, i) => ({ e, p: lexical[i] })).filter(({ e }) => subset(e) && head.reads(e.text));
  console.log(`added latency of an escalated prompt (${await timeDecisions(cascade, items.filter(({ e, p }) => cascade.escalates(p, e.text)).slice(0, TIMED))})`);
  // Escalated prompts are few; prompts the head reads, spread over the dev set and escalated as if the threshold were 1, give a larger sample.
  const always = new EmbeddingCascade({ provider, head, clusterLabels: model.clusterLabels, threshold: 1, timeoutMs: 60_000, maxPending: 1, cacheSize: 0, weight: WEIGHT });
  console.log(`  the same for every prompt the head reads (${await timeDecisions(always, items.filter((_, i) => i % Math.ceil(items.length / TIMED) === 0))})`);
}

if (!args['skip-in-process']) {
  const before = process.memoryUsage().rss;
  const provider = new UseLiteProvider({ workers: 1 });
  await provider.ready;
  const loaded = process.memoryUsage().rss;
  await measure('in-process (USE lite, worker thread)', provider, loadHead(args.head), true);
  console.log(`memory: process RSS ${mb(before)} before the worker, ${mb(loaded)} with the model loaded, ${mb(process.memoryUsage().rss)} after embedding (the model's share: ${mb(process.memoryUsage().rss - before)})`);
  await provider.close();
}

if (!args['skip-remote']) {
  const sim = await startSimServer({ profile: 'h100-80gb:llama-3.2-1b:bf16:tp1', modelName: 'sim-embed' });
  const provider = new RemoteEmbeddingProvider({ endpoint: sim.url, model: 'sim-embed' });
  const corpus = readDefaultCorpus();
  const t0 = performance.now();
  const head = await buildHead(provider, corpus, { model: 'sim-embed', batchSize: 64, concurrency: 4, source: 'data/corpus/train' });
  console.log(`\ntrained a head against the simulator from ${corpus.length} corpus prompts in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  await measure('remote (simulator /v1/embeddings, hashed n-gram vectors)', provider, head, false);
  await provider.close();
  await sim.close();
}

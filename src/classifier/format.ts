/** Human-readable summaries for the CLI: a trained model and an evaluation report. */
import type { EvalReport, SliceScores } from './evaluate.js';
import type { Explanation } from './explain.js';
import type { ModelMetadata } from './model.js';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export function formatModelSummary(m: ModelMetadata): string {
  const f = m.features;
  const lines = [
    `${m.mode} ${m.kind} model: k=${m.k}, ${m.corpusSize} examples, ${m.featureCount} features`,
    `features: dim=${f.dim}, word n-grams 1..${f.wordNgrams}, char n-grams ${f.charNgramMax > 0 ? `${f.charNgramMin}..${f.charNgramMax}` : 'none'}, ` +
      `${f.sublinearTf ? 'sublinear' : 'raw'} tf, idf^${f.idfPower}, digits ${f.foldDigits ? 'folded' : 'kept'}, ` +
      `spaceless scripts: ${['as words', 'characters', 'characters and pairs'][f.spacelessNgrams]}, ` +
      `words from the first ${f.textBudget} chars, word pairs and char n-grams from the first ${f.ngramBudget}`,
    (m.linear
      ? `seed=${m.seed} l2=${m.linear.l2} iterations=${m.linear.iterations} objective=${m.objective.toFixed(4)} temperature=${m.temperature.toFixed(4)} ` +
        `(fitted on ${m.linear.heldOut} held-out training prompts, NLL ${m.linear.heldOutNll.toFixed(4)})`
      : `seed=${m.seed} restarts=${m.restarts} objective (mean cosine)=${m.objective.toFixed(4)} temperature=${m.temperature.toFixed(4)}`) +
      (m.purity === null ? '' : ` ${m.linear ? 'training accuracy' : 'purity'}=${pct(m.purity)}`),
    '',
    'cluster  label         size  purity  top terms',
  ];
  for (const c of m.clusters) {
    lines.push(
      `${String(c.id).padStart(7)}  ${c.label.padEnd(12)} ${String(c.size).padStart(5)}  ${(c.purity === null ? '-' : pct(c.purity)).padStart(6)}  ${c.topTerms.join(', ')}`,
    );
  }
  return lines.join('\n');
}

export function formatEvalReport(r: EvalReport): string {
  const labels = Object.keys(r.per_label);
  const width = Math.max(8, ...labels.map((l) => l.length));
  const lines = [`n=${r.n}  accuracy=${pct(r.accuracy)}  macro-F1=${r.macro_f1.toFixed(4)}`, '', `${'label'.padEnd(width)}  precision  recall     f1  support`];
  for (const l of labels) {
    const s = r.per_label[l];
    lines.push(`${l.padEnd(width)}  ${pct(s.precision).padStart(9)}  ${pct(s.recall).padStart(6)}  ${s.f1.toFixed(3)}  ${String(s.support).padStart(7)}`);
  }
  lines.push('', `confusion (rows: true label, columns: predicted)`, `${''.padEnd(width)}  ${labels.map((l) => l.padStart(width)).join(' ')}`);
  for (const t of labels) lines.push(`${t.padEnd(width)}  ${labels.map((p) => String(r.confusion[t][p]).padStart(width)).join(' ')}`);
  const slices = (title: string, groups: Record<string, SliceScores>) => {
    const names = Object.keys(groups);
    const w = Math.max(8, ...names.map((n) => n.length));
    lines.push('', title, `${''.padEnd(w)}  accuracy      n`);
    for (const name of names) lines.push(`${name.padEnd(w)}  ${pct(groups[name].accuracy).padStart(8)}  ${String(groups[name].n).padStart(5)}`);
  };
  slices(`by language (non-English: ${pct(r.non_english.accuracy)} of ${r.non_english.n})`, r.by_lang);
  slices('by prompt length (characters)', r.by_length);
  const c = r.calibration;
  lines.push(
    '',
    `calibration: ECE=${c.ece.toFixed(4)}  mean confidence=${pct(c.meanConfidence)}  accuracy=${pct(c.accuracy)}`,
    'confidence      n  mean conf  accuracy',
  );
  for (const b of c.bins) {
    if (b.count === 0) continue;
    lines.push(`${`${b.lo.toFixed(1)}-${b.hi.toFixed(1)}`.padEnd(10)}  ${String(b.count).padStart(5)}  ${pct(b.confidence).padStart(9)}  ${pct(b.accuracy).padStart(8)}`);
  }
  return lines.join('\n');
}

/** `route --explain` as text: the decision, then each label's score and the features that favour it. */
export function formatExplanation(e: Explanation): string {
  const lines = [`label=${e.label} confidence=${e.confidence.toFixed(3)} margin=${e.margin.toFixed(3)} tier=${e.tier} known features=${e.knownFeatures}`];
  for (const [label, score] of Object.entries(e.scores)) {
    const features = e.features[label].map((f) => `${JSON.stringify(f.term)} (${f.kind}) +${f.weight.toFixed(3)}`).join(', ');
    lines.push(`  ${label.padEnd(10)} ${score.toFixed(3)}  ${features || '-'}`);
  }
  return lines.join('\n');
}

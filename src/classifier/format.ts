/** Human-readable summaries for the CLI: a trained model and an evaluation report. */
import type { EvalReport } from './evaluate.js';
import type { ModelMetadata } from './model.js';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export function formatModelSummary(m: ModelMetadata): string {
  const f = m.features;
  const lines = [
    `${m.mode} model: k=${m.k}, ${m.corpusSize} examples, ${m.featureCount} features`,
    `features: dim=${f.dim}, word n-grams 1..${f.wordNgrams}, char n-grams ${f.charNgramMax > 0 ? `${f.charNgramMin}..${f.charNgramMax}` : 'none'}, ` +
      `${f.sublinearTf ? 'sublinear' : 'raw'} tf, idf^${f.idfPower}, digits ${f.foldDigits ? 'folded' : 'kept'}, ` +
      `words from the first ${f.textBudget} chars, word pairs and char n-grams from the first ${f.ngramBudget}`,
    `seed=${m.seed} restarts=${m.restarts} objective (mean cosine)=${m.objective.toFixed(4)}` + (m.purity === null ? '' : ` purity=${pct(m.purity)}`),
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
  return lines.join('\n');
}

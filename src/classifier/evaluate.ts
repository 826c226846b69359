/** Accuracy, macro-F1, per-label precision/recall and the confusion matrix of a classifier on labelled prompts. */
import { ClassifierError } from './errors.js';
import type { LabelledText } from './train.js';
import type { PromptClassifier } from './types.js';

export interface LabelScores {
  precision: number;
  recall: number;
  f1: number;
  /** Examples whose true label this is. */
  support: number;
}

/** The `eval --json` object. */
export interface EvalReport {
  accuracy: number;
  /** Mean F1 over every label that is true or predicted at least once. */
  macro_f1: number;
  per_label: Record<string, LabelScores>;
  /** confusion[true label][predicted label] = count (zeros included for every pair of labels). */
  confusion: Record<string, Record<string, number>>;
  n: number;
}

export function evaluate(model: PromptClassifier, examples: readonly LabelledText[]): EvalReport {
  if (examples.length === 0) throw new ClassifierError('data_empty', 'no examples to evaluate');
  const pairs = examples.map((e, i) => {
    if (e.label === undefined || e.label === '') throw new ClassifierError('data_missing_field', `example ${i + 1} has no label to evaluate against`);
    return [e.label, model.predict(e.text).label] as const;
  });
  const labels = [...new Set(pairs.flat())].sort();
  const confusion: Record<string, Record<string, number>> = {};
  for (const t of labels) confusion[t] = Object.fromEntries(labels.map((p) => [p, 0]));
  let correct = 0;
  for (const [truth, predicted] of pairs) {
    confusion[truth][predicted]++;
    if (truth === predicted) correct++;
  }
  const per_label: Record<string, LabelScores> = {};
  for (const label of labels) {
    const tp = confusion[label][label];
    const support = labels.reduce((s, p) => s + confusion[label][p], 0);
    const predicted = labels.reduce((s, t) => s + confusion[t][label], 0);
    const precision = predicted > 0 ? tp / predicted : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    per_label[label] = { precision, recall, f1, support };
  }
  const macro_f1 = labels.reduce((s, l) => s + per_label[l].f1, 0) / labels.length;
  return { accuracy: correct / pairs.length, macro_f1, per_label, confusion, n: pairs.length };
}

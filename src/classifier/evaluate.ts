/**
 * Accuracy, macro-F1, per-label precision/recall and the confusion matrix of a classifier on labelled
 * prompts, with accuracy broken down by language and by prompt length, and the calibration of its confidence
 * (expected calibration error and a reliability table).
 */
import { calibrationReport, type CalibrationReport } from './calibration.js';
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

/** Accuracy over one slice of the examples. */
export interface SliceScores {
  n: number;
  accuracy: number;
}

/** Prompt-length buckets, by characters: each is [from, to). */
export const LENGTH_BUCKETS: ReadonlyArray<{ name: string; from: number; to: number }> = [
  { name: '<80', from: 0, to: 80 },
  { name: '80-299', from: 80, to: 300 },
  { name: '300-999', from: 300, to: 1000 },
  { name: '>=1000', from: 1000, to: Infinity },
];

/** Language of an example that names none. */
export const UNKNOWN_LANG = 'unknown';

/** The `eval --json` object. */
export interface EvalReport {
  accuracy: number;
  /** Mean F1 over every label that is true or predicted at least once. */
  macro_f1: number;
  per_label: Record<string, LabelScores>;
  /** confusion[true label][predicted label] = count (zeros included for every pair of labels). */
  confusion: Record<string, Record<string, number>>;
  n: number;
  /** Accuracy per language (the examples' `lang`, or `unknown`), and over every language but English. */
  by_lang: Record<string, SliceScores>;
  non_english: SliceScores;
  /** Accuracy per prompt-length bucket (LENGTH_BUCKETS, empty buckets left out). */
  by_length: Record<string, SliceScores>;
  /** How well `confidence` matches accuracy. */
  calibration: CalibrationReport;
}

function slice(outcomes: readonly boolean[]): SliceScores {
  return { n: outcomes.length, accuracy: outcomes.length > 0 ? outcomes.filter(Boolean).length / outcomes.length : 0 };
}

function groupBy(keys: readonly string[], outcomes: readonly boolean[]): Record<string, SliceScores> {
  const groups = new Map<string, boolean[]>();
  keys.forEach((k, i) => {
    const list = groups.get(k) ?? [];
    list.push(outcomes[i]);
    groups.set(k, list);
  });
  return Object.fromEntries([...groups.keys()].sort().map((k) => [k, slice(groups.get(k)!)]));
}

export function evaluate(model: PromptClassifier, examples: readonly LabelledText[]): EvalReport {
  if (examples.length === 0) throw new ClassifierError('data_empty', 'no examples to evaluate');
  const rows = examples.map((e, i) => {
    if (e.label === undefined || e.label === '') throw new ClassifierError('data_missing_field', `example ${i + 1} has no label to evaluate against`);
    const p = model.predict(e.text);
    return { truth: e.label, predicted: p.label, confidence: p.confidence, lang: e.lang ?? UNKNOWN_LANG, length: e.text.length };
  });
  const labels = [...new Set(rows.flatMap((r) => [r.truth, r.predicted]))].sort();
  const confusion: Record<string, Record<string, number>> = {};
  for (const t of labels) confusion[t] = Object.fromEntries(labels.map((p) => [p, 0]));
  for (const r of rows) confusion[r.truth][r.predicted]++;
  const correct = rows.map((r) => r.truth === r.predicted);
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
  const bucketOf = (length: number) => LENGTH_BUCKETS.find((b) => length >= b.from && length < b.to)!.name;
  const by_length_all = groupBy(
    rows.map((r) => bucketOf(r.length)),
    correct,
  );
  // Buckets in their natural order rather than sorted by name.
  const by_length = Object.fromEntries(LENGTH_BUCKETS.filter((b) => by_length_all[b.name]).map((b) => [b.name, by_length_all[b.name]]));
  return {
    accuracy: slice(correct).accuracy,
    macro_f1,
    per_label,
    confusion,
    n: rows.length,
    by_lang: groupBy(
      rows.map((r) => r.lang),
      correct,
    ),
    non_english: slice(correct.filter((_, i) => rows[i].lang !== 'en' && rows[i].lang !== UNKNOWN_LANG)),
    by_length,
    calibration: calibrationReport(
      rows.map((r) => r.confidence),
      correct,
    ),
  };
}

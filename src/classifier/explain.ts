/**
 * Why a prompt went where it did: the decision of the lexical model with, per label, the features of the
 * prompt that pushed hardest towards it, named as the n-grams they are (re-derived from the prompt's own text,
 * so the artifact needs no vocabulary). For `route --explain` and the gateway's `/v1/route?explain=1`; not the
 * prediction path (it allocates).
 */
import { defaultModel } from './default-model.js';
import type { FeatureTerm } from './featurize.js';
import type { ClassifierModel } from './model.js';

/** The tier that made the decision: this module explains the lexical model. */
export type DecisionTier = 'lexical';

export interface ExplainedFeature {
  /** The n-gram as read from the prompt (lower-cased, digits folded; "_" is a space in character n-grams). */
  term: string;
  kind: FeatureTerm['kind'];
  /** What the feature adds to the label's score (linear: its logit, against the mean over labels; centroid: its cosine). */
  weight: number;
}

export interface Explanation {
  label: string;
  confidence: number;
  margin: number;
  tier: DecisionTier;
  /** Per label: its score (linear: calibrated probability; centroid: cosine of its best cluster). */
  scores: Record<string, number>;
  /** Per label, most probable first: the features that most favour it, heaviest first. */
  features: Record<string, ExplainedFeature[]>;
  /** Known features of the prompt (seen in training), of all its features. */
  knownFeatures: number;
}

export const EXPLAIN_DEFAULTS = { top: 6 } as const;

export function explainPrediction(model: ClassifierModel, text: string, top: number = EXPLAIN_DEFAULTS.top): Explanation {
  const prediction = model.predict(text);
  const names = new Map<number, { term: string; kind: FeatureTerm['kind'] }>();
  for (const t of model.terms(text)) {
    const known = names.get(t.index);
    // Two n-grams of one prompt in one hashed bucket: name both.
    if (known === undefined) names.set(t.index, { term: t.term, kind: t.kind });
    else if (!known.term.split(' / ').includes(t.term)) known.term += ` / ${t.term}`;
  }
  const contributions = model.contributions(text);
  // A label's score and contributions are those of its best cluster.
  const bestCluster = new Map<string, number>();
  model.clusterLabels.forEach((label, c) => {
    const at = bestCluster.get(label);
    if (at === undefined || prediction.scores[c] > prediction.scores[at]) bestCluster.set(label, c);
  });
  const order = [...bestCluster.entries()].sort(([a, ca], [b, cb]) => prediction.scores[cb] - prediction.scores[ca] || (a < b ? -1 : 1));
  const scores: Record<string, number> = {};
  const features: Record<string, ExplainedFeature[]> = {};
  for (const [label, c] of order) {
    scores[label] = prediction.scores[c];
    features[label] = contributions
      .filter((f) => f.perCluster[c] > 0)
      .sort((a, b) => b.perCluster[c] - a.perCluster[c] || a.index - b.index)
      .slice(0, top)
      .map((f) => ({ ...(names.get(f.index) ?? { term: `#${f.index}`, kind: 'word' as const }), weight: f.perCluster[c] }));
  }
  return {
    label: prediction.label,
    confidence: prediction.confidence,
    margin: prediction.margin,
    tier: 'lexical',
    scores,
    features,
    knownFeatures: contributions.length,
  };
}

/** Explains how `model` (default: the built-in model) classifies `text`, naming the `top` features per label. */
export function explain(text: string, options: { model?: ClassifierModel; top?: number } = {}): Explanation {
  return explainPrediction(options.model ?? defaultModel(), text, options.top);
}

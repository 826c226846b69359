/** A tiny PromptClassifier for tests: cluster i is chosen when the text holds keyword i. */
import type { Prediction, PromptClassifier } from '../../src/classifier/types.js';

export class KeywordClassifier implements PromptClassifier {
  readonly k: number;
  readonly clusterLabels: readonly string[];

  constructor(private readonly keywords: readonly { label: string; words: readonly string[] }[]) {
    this.k = keywords.length;
    this.clusterLabels = keywords.map((k) => k.label);
  }

  predict(text: string): Prediction {
    const lower = text.toLowerCase();
    const scores = this.keywords.map((k) => k.words.filter((w) => lower.includes(w)).length / Math.max(1, k.words.length));
    let cluster = 0;
    for (let i = 1; i < scores.length; i++) if (scores[i] > scores[cluster]) cluster = i;
    const sorted = [...scores].sort((a, b) => b - a);
    // Confidence: the chosen cluster's share of all keyword hits (1/k with none).
    const total = scores.reduce((s, x) => s + x, 0);
    const confidence = total > 0 ? scores[cluster] / total : 1 / this.k;
    return { cluster, label: this.clusterLabels[cluster], score: scores[cluster], margin: sorted[0] - (sorted[1] ?? 0), confidence, scores };
  }
}

/** Three clusters: general (0), code (1), math (2). */
export function testClassifier(): KeywordClassifier {
  return new KeywordClassifier([
    { label: 'general', words: ['weather', 'hello'] },
    { label: 'code', words: ['python', 'function', 'code'] },
    { label: 'math', words: ['integral', 'equation', 'solve'] },
  ]);
}

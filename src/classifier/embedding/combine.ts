/**
 * The cascade's rule for an escalated prompt: a linear pool of the embedding head's label probabilities
 * and the lexical tier's.
 *
 *   q(label) = c for the lexical label, (1 - c) / (L - 1) for each other label   (c: lexical confidence)
 *   p(label) = w * h(label) + (1 - w) * q(label)                                  (h: the head, w: weight)
 *
 * The label with the largest p wins (ties go to the lexical label, then to the earlier label); its p is the
 * decision's confidence and p(best) - p(second) its margin. Below the threshold the lexical ranking of the
 * other labels is close to noise (the issue measured margins of 0.000-0.02 on misroutes), so q keeps only
 * the lexical choice and its confidence. The cluster is the lexical one when the label stays, otherwise the
 * highest-scoring lexical cluster carrying the new label.
 */
import type { Prediction } from '../types.js';

/** Maps the head's labels onto the lexical classifier's clusters once, so combining is a loop over labels. */
export class LabelJoin {
  /** The classifier's distinct labels, in first-cluster order. */
  readonly labels: readonly string[];
  /** For each of `labels`: the head's index for it, or -1 when the head does not know the label. */
  private readonly headIndex: Int32Array;
  /** For each of `labels`: the cluster ids carrying it. */
  private readonly clusters: number[][];
  private readonly labelOfCluster: Int32Array;

  constructor(clusterLabels: readonly string[], headLabels: readonly string[]) {
    const labels: string[] = [];
    const clusters: number[][] = [];
    this.labelOfCluster = new Int32Array(clusterLabels.length);
    clusterLabels.forEach((label, cluster) => {
      let at = labels.indexOf(label);
      if (at === -1) {
        at = labels.push(label) - 1;
        clusters.push([]);
      }
      clusters[at].push(cluster);
      this.labelOfCluster[cluster] = at;
    });
    this.labels = labels;
    this.clusters = clusters;
    this.headIndex = Int32Array.from(labels, (l) => headLabels.indexOf(l));
  }

  /** Head labels that no cluster carries (a head trained for other labels cannot be combined). */
  static unknownLabels(clusterLabels: readonly string[], headLabels: readonly string[]): string[] {
    return headLabels.filter((l) => !clusterLabels.includes(l));
  }

  private pooled(i: number, lexLabel: number, c: number, rest: number, head: ArrayLike<number>, weight: number): number {
    const h = this.headIndex[i] === -1 ? 0 : head[this.headIndex[i]];
    return weight * h + (1 - weight) * (i === lexLabel ? c : rest);
  }

  /** The combined decision for a prompt whose lexical prediction is `lexical` and head probabilities `head`. */
  combine(lexical: Prediction, head: ArrayLike<number>, weight: number): Prediction {
    const n = this.labels.length;
    const lexLabel = this.labelOfCluster[lexical.cluster];
    const c = Math.min(1, Math.max(0, lexical.confidence));
    const rest = n > 1 ? (1 - c) / (n - 1) : 0;
    // The lexical label is ranked first, so that it wins ties; then the others in label order.
    let best = lexLabel;
    let bestP = this.pooled(lexLabel, lexLabel, c, rest, head, weight);
    let secondP = -1;
    for (let i = 0; i < n; i++) {
      if (i === lexLabel) continue;
      const p = this.pooled(i, lexLabel, c, rest, head, weight);
      if (p > bestP) {
        secondP = bestP;
        bestP = p;
        best = i;
      } else if (p > secondP) secondP = p;
    }
    let cluster = lexical.cluster;
    if (best !== lexLabel) {
      cluster = this.clusters[best][0];
      for (const id of this.clusters[best]) if (lexical.scores[id] > lexical.scores[cluster]) cluster = id;
    }
    return {
      ...lexical,
      cluster,
      label: this.labels[best],
      score: lexical.scores[cluster],
      confidence: bestP,
      margin: secondP < 0 ? bestP : bestP - secondP,
    };
  }
}

/** The classifier's contract, used by the gateway, the harness and the experiments. */

/** The decision for one prompt. */
export interface Prediction {
  /** Index of the nearest centroid's cluster. */
  cluster: number;
  /** The cluster's label (its majority label, or `cluster-N` when trained without labels). */
  label: string;
  /** Cosine similarity to the chosen centroid. */
  score: number;
  /** Best minus second-best cluster score: how sure the decision is, in the model's own score units. */
  margin: number;
  /**
   * Calibrated probability (0..1) that `label` is right: a softmax of the scores with a temperature fitted on
   * labelled prompts, summed over the clusters carrying the label. Comparable across models, unlike `margin`.
   */
  confidence: number;
  /** Cosine similarity per cluster, indexed by cluster id. */
  scores: number[];
}

/** Anything that assigns a prompt to a cluster; synchronous and fast (microseconds). */
export interface PromptClassifier {
  /** Number of clusters. */
  readonly k: number;
  /** Label of each cluster, indexed by cluster id. */
  readonly clusterLabels: readonly string[];
  predict(text: string): Prediction;
}

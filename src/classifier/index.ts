export type { Prediction, PromptClassifier } from './types.js';
export { ClassifierError, type ClassifierErrorCode } from './errors.js';
export { DEFAULT_FEATURES, UNSUPERVISED_FEATURES, Featurizer, type FeatureSettings, type FeatureTerm } from './featurize.js';
export { ClassifierModel, type ClusterInfo, type ModelKind, type ModelMetadata } from './model.js';
export { trainClassifier, type LabelledText, type TrainOptions, type TrainProgress } from './train.js';
export { loadModel, saveModel, parseModel, serializeModel, ARTIFACT_FORMAT, ARTIFACT_VERSION } from './artifact.js';
export { readExamples, DEFAULT_TEXT_FIELD, DEFAULT_LABEL_FIELD, DEFAULT_LANG_FIELD, type ReadExamplesOptions } from './examples.js';
export { evaluate, LENGTH_BUCKETS, type EvalReport, type LabelScores, type SliceScores } from './evaluate.js';
export { defaultModel, buildDefaultModel, DEFAULT_MODEL_PATH, DEFAULT_MODEL_OPTIONS } from './default-model.js';
export { readDefaultCorpus, readDevSet, listCorpusFiles, corpusDigest, corpusSource, DEFAULT_CORPUS_DIR, DEFAULT_LANG } from './corpus.js';
export { formatEvalReport, formatModelSummary, formatExplanation } from './format.js';
export { explain, explainPrediction, EXPLAIN_DEFAULTS, type Explanation, type ExplainedFeature, type DecisionTier } from './explain.js';
export { calibrationReport, type CalibrationReport, type ReliabilityBin } from './calibration.js';
export { findNearDuplicates, NearDuplicateIndex, NEAR_DUPLICATE_DEFAULTS, type NearDuplicate, type NearDuplicateOptions } from './near-duplicates.js';


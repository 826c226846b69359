/**
 * The built-in model: supervised, trained at first use from the project corpus (data/corpus/train/**) and
 * cached for the process.
 */
import { readDefaultCorpus } from './corpus.js';
import type { ClassifierModel } from './model.js';
import { trainClassifier } from './train.js';

/** Training settings of the default model. */
export const DEFAULT_MODEL_OPTIONS = { seed: 42, centroidsPerLabel: 1 } as const;

let cached: ClassifierModel | undefined;

export function defaultModel(): ClassifierModel {
  cached ??= trainClassifier(readDefaultCorpus(), { ...DEFAULT_MODEL_OPTIONS, supervised: true, source: 'data/corpus/train/**/*.jsonl' });
  return cached;
}

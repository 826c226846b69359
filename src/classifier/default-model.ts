/**
 * The built-in model: the artifact shipped in data/models/default.json, loaded at first use and cached for the
 * process (the gateway and the demo start without training). `buildDefaultModel` trains it again from the
 * project corpus with the settings below; `expert-router train --data data/corpus --out
 * data/models/default.json` does the same from the command line. The artifact records the corpus digest, and
 * a test fails when the corpus has changed since it was built.
 */
import { fileURLToPath } from 'node:url';
import { loadModel } from './artifact.js';
import { corpusDigest, corpusSource, DEFAULT_CORPUS_DIR, readDefaultCorpus } from './corpus.js';
import type { ClassifierModel } from './model.js';
import { trainClassifier, type TrainOptions } from './train.js';

export const DEFAULT_MODEL_PATH = fileURLToPath(new URL('../../data/models/default.json', import.meta.url));
/**
 * Training settings of the default model (the feature settings are the linear model's defaults); the same as
 * `expert-router train --data <corpus folder>` without further options.
 */
export const DEFAULT_MODEL_OPTIONS: Readonly<TrainOptions> = Object.freeze({ seed: 42, supervised: true, model: 'linear' });

let cached: ClassifierModel | undefined;

export function defaultModel(): ClassifierModel {
  cached ??= loadModel(DEFAULT_MODEL_PATH);
  return cached;
}

/** Trains the default model from a corpus folder (train/**), recording the corpus digest. */
export function buildDefaultModel(dir = DEFAULT_CORPUS_DIR, onProgress?: TrainOptions['onProgress']): ClassifierModel {
  return trainClassifier(readDefaultCorpus(dir), {
    ...DEFAULT_MODEL_OPTIONS,
    source: corpusSource(dir),
    corpusDigest: corpusDigest(dir),
    onProgress,
  });
}

/**
 * The built-in model: supervised, trained at first use from every data/corpus/*.jsonl of the package (well
 * under a second) and cached for the process. The folder is found from this file, so it works from src/
 * (tsx) and from dist/ alike: both sit two levels below the package root.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { ClassifierError } from './errors.js';
import { readExamples } from './examples.js';
import type { ClassifierModel } from './model.js';
import { trainClassifier, type LabelledText } from './train.js';

export const DEFAULT_CORPUS_DIR = fileURLToPath(new URL('../../data/corpus/', import.meta.url));
/** Training settings of the default model. */
export const DEFAULT_MODEL_OPTIONS = { seed: 42, centroidsPerLabel: 1 } as const;

let cached: ClassifierModel | undefined;

export function readDefaultCorpus(dir = DEFAULT_CORPUS_DIR): LabelledText[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort();
  } catch (err) {
    throw new ClassifierError('file_unreadable', `cannot read the default corpus folder ${dir}: ${(err as Error).message}`, { cause: err });
  }
  if (files.length === 0) throw new ClassifierError('data_empty', `no .jsonl files in the default corpus folder ${dir}`);
  return files.flatMap((f) => readExamples(join(dir, f), { requireLabel: true }));
}

export function defaultModel(): ClassifierModel {
  cached ??= trainClassifier(readDefaultCorpus(), { ...DEFAULT_MODEL_OPTIONS, supervised: true, source: 'data/corpus/*.jsonl' });
  return cached;
}

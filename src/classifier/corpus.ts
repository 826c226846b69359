/**
 * The project corpus as laid out in data/corpus: training prompts in train/<label>/*.jsonl (any depth, read
 * in path order) and the development set in dev/<label>.jsonl, rows {"prompt","label","lang"}. The folder is
 * found from this file, so it works from src/ (tsx) and from dist/ alike: both sit two levels below the
 * package root.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClassifierError } from './errors.js';
import { readExamples } from './examples.js';
import type { LabelledText } from './train.js';

export const DEFAULT_CORPUS_DIR = fileURLToPath(new URL('../../data/corpus/', import.meta.url));
/** Language of a corpus row that names none. */
export const DEFAULT_LANG = 'en';

/** `.jsonl` files under `dir`, recursively, as sorted paths relative to it with `/` separators. */
function jsonlFiles(dir: string, what: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { recursive: true, withFileTypes: true });
  } catch (err) {
    throw new ClassifierError('file_unreadable', `cannot read the ${what} folder ${dir}: ${(err as Error).message}`, { cause: err });
  }
  const files = entries
    .filter((e) => e.isFile() && e.name.endsWith('.jsonl'))
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
  if (files.length === 0) throw new ClassifierError('data_empty', `no .jsonl files in the ${what} folder ${dir}`);
  return files;
}

/** How a model's metadata names a corpus folder's training files: `corpus/train/**\/*.jsonl`. */
export function corpusSource(dir: string): string {
  return `${basename(resolve(dir))}/train/**/*.jsonl`;
}

/** The training files of a corpus folder, relative to it (`train/code/seed.jsonl`, ...), sorted. */
export function listCorpusFiles(dir = DEFAULT_CORPUS_DIR): string[] {
  return jsonlFiles(join(dir, 'train'), 'training corpus').map((f) => `train/${f}`);
}

function readRows(dir: string, files: readonly string[]): LabelledText[] {
  return files.flatMap((f) => readExamples(join(dir, f), { requireLabel: true }).map((e) => ({ ...e, lang: e.lang ?? DEFAULT_LANG })));
}

/** Every training prompt of the corpus (train/**\/*.jsonl), each with its label and language. */
export function readDefaultCorpus(dir = DEFAULT_CORPUS_DIR): LabelledText[] {
  return readRows(dir, listCorpusFiles(dir));
}

/** The development set (dev/*.jsonl): never trained on; what `eval` and the tuning are measured against. */
export function readDevSet(dir = DEFAULT_CORPUS_DIR): LabelledText[] {
  const files = jsonlFiles(join(dir, 'dev'), 'development set').map((f) => `dev/${f}`);
  return readRows(dir, files);
}

/**
 * SHA-256 over the training files' paths and bytes, in path order: the shipped model stores the digest of
 * the corpus it was trained from, so a test can tell when the corpus changed and the model was not rebuilt.
 */
export function corpusDigest(dir = DEFAULT_CORPUS_DIR): string {
  const hash = createHash('sha256');
  for (const f of listCorpusFiles(dir)) {
    hash.update(`${f}\n`);
    hash.update(readFileSync(join(dir, f)));
    hash.update('\n');
  }
  return hash.digest('hex');
}

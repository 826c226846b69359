/**
 * Prompt sources for the harness: a JSONL dataset, the project's own corpus (data/corpus/train/**,
 * the default), or synthetic prompts of a given length.
 */
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { DEFAULT_CORPUS_DIR, listCorpusFiles } from '../classifier/index.js';
import { parseJsonl } from '../common/jsonl.js';
import { createRng, type Rng } from '../common/rng.js';
import type { LengthSpec } from './parse.js';
import type { Prompt } from './types.js';
import { HarnessError } from './errors.js';

export type PromptSpec =
  | { kind: 'corpus' }
  /** JSONL, one object a line; `field` names the prompt (default: prompt, text, question or messages). */
  | { kind: 'dataset'; file: string; field?: string }
  | { kind: 'synthetic'; inputTokens: LengthSpec; count?: number };

export interface PromptOptions {
  /** Per-prompt output lengths (sent as max_tokens); drawn with the seed. */
  outputTokens?: LengthSpec;
  seed?: number;
}

export interface PromptSet {
  /** Where the prompts came from, for the report. */
  source: string;
  prompts: Prompt[];
}


const FIELDS = ['prompt', 'text', 'question', 'messages'];

export async function loadPrompts(spec: PromptSpec, opts: PromptOptions = {}): Promise<PromptSet> {
  const rng = createRng(opts.seed ?? 1);
  let set: PromptSet;
  if (spec.kind === 'synthetic') set = syntheticPrompts(spec.inputTokens, spec.count ?? 1000, rng);
  else if (spec.kind === 'dataset') set = { source: spec.file, prompts: await readJsonl(spec.file, spec.field) };
  else set = await corpusPrompts();
  if (opts.outputTokens) {
    const lengths = opts.outputTokens;
    set.prompts = set.prompts.map((p) => ({ ...p, maxTokens: drawLength(lengths, rng) }));
  }
  return set;
}

async function corpusPrompts(): Promise<PromptSet> {
  let files: string[];
  try {
    files = listCorpusFiles(DEFAULT_CORPUS_DIR);
  } catch (err) {
    throw new HarnessError('input_unreadable', `cannot read the project corpus at ${DEFAULT_CORPUS_DIR}: ${(err as Error).message}`);
  }
  if (files.length === 0) throw new HarnessError('input_invalid', `the project corpus at ${DEFAULT_CORPUS_DIR} holds no .jsonl file; pass --dataset FILE or --input-tokens N`);
  const prompts: Prompt[] = [];
  for (const f of files) prompts.push(...(await readJsonl(join(DEFAULT_CORPUS_DIR, f))));
  return { source: `corpus (${files.join(', ')})`, prompts };
}

async function readJsonl(file: string, field?: string): Promise<Prompt[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new HarnessError('input_unreadable', `cannot read dataset ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const prompts: Prompt[] = [];
  for (const { line, value } of parseJsonl(text, (n) => new Error(`${basename(file)} line ${n}: not valid JSON`))) {
    const prompt = promptOf(value, field);
    if (prompt === undefined) {
      throw new HarnessError('input_invalid', `${basename(file)} line ${line}: no prompt field (${field ? `'${field}'` : FIELDS.join(', ')}) holding text`);
    }
    prompts.push({ text: prompt });
  }
  if (prompts.length === 0) throw new HarnessError('input_invalid', `dataset ${file} holds no prompt`);
  return prompts;
}

function promptOf(row: unknown, field?: string): string | undefined {
  if (typeof row !== 'object' || row === null) return undefined;
  const obj = row as Record<string, unknown>;
  for (const name of field ? [field] : FIELDS) {
    const value = obj[name];
    if (typeof value === 'string' && value.trim() !== '') return value;
    if (Array.isArray(value)) {
      // A chat transcript: send its last user message.
      const last = [...value].reverse().find((m) => typeof m === 'object' && m !== null && (m as { role?: unknown }).role === 'user');
      const content = (last as { content?: unknown } | undefined)?.content;
      if (typeof content === 'string' && content.trim() !== '') return content;
    }
  }
  return undefined;
}

/** Common English words that Llama 3's tokenizer encodes as one token each (with a leading space). */
const WORDS = (
  'the of and to in is that for it as with was on be by this are or from at an which have not but ' +
  'they had one all were there can their more when will would about what if so out up into other ' +
  'some time only new may like these two first than been its who now people my made over did down ' +
  'way many such also after most year back work use good well very through just make where years'
).split(' ');

function syntheticPrompts(lengths: LengthSpec, count: number, rng: Rng): PromptSet {
  const prompts: Prompt[] = [];
  for (let i = 0; i < count; i++) {
    const n = drawLength(lengths, rng);
    const words: string[] = [];
    for (let w = 0; w < n; w++) words.push(WORDS[Math.floor(rng.next() * WORDS.length)]);
    prompts.push({ text: words.join(' ') });
  }
  return { source: `synthetic (${lengths.mean}${lengths.spread ? `±${lengths.spread}` : ''} tokens)`, prompts };
}

function drawLength(spec: LengthSpec, rng: Rng): number {
  return spec.spread > 0 ? rng.int(spec.mean - spec.spread, spec.mean + spec.spread) : spec.mean;
}

/** Reads labelled prompts from JSONL (one object per line) or CSV with a header row. */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parseJsonl } from '../common/jsonl.js';
import { CsvSyntaxError, parseCsv } from './csv.js';
import { ClassifierError } from './errors.js';
import type { LabelledText } from './train.js';

export interface ReadExamplesOptions {
  /** Field holding the prompt (default `prompt`). */
  textField?: string;
  /** Field holding the label (default `label`); a record without it has no label unless `requireLabel`. */
  labelField?: string;
  /** Field holding the prompt's language (default `lang`); optional in every record. */
  langField?: string;
  requireLabel?: boolean;
}

export const DEFAULT_TEXT_FIELD = 'prompt';
export const DEFAULT_LABEL_FIELD = 'label';
export const DEFAULT_LANG_FIELD = 'lang';

/** Reads a whole file as UTF-8, turning file-system errors into a message naming the file. */
export function readTextFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new ClassifierError('file_unreadable', `cannot read ${what} ${path}: ${why}`, { cause: err });
  }
}

export function readExamples(path: string, opts: ReadExamplesOptions = {}): LabelledText[] {
  const text = readTextFile(path, 'data file');
  const records = isCsv(path, text) ? csvRecords(path, text) : jsonlRecords(path, text);
  const textField = opts.textField ?? DEFAULT_TEXT_FIELD;
  const labelField = opts.labelField ?? DEFAULT_LABEL_FIELD;
  const langField = opts.langField ?? DEFAULT_LANG_FIELD;
  const examples = records.map(({ line, record }): LabelledText => {
    const where = `${path}:${line}`;
    const value = record[textField];
    if (value === undefined || value === null) throw new ClassifierError('data_missing_field', `${where}: missing text field '${textField}'`);
    if (typeof value !== 'string') throw new ClassifierError('data_malformed', `${where}: text field '${textField}' must be a string`);
    if (value.trim() === '') throw new ClassifierError('data_empty_text', `${where}: empty text in field '${textField}'`);
    const lang = record[langField];
    if (lang !== undefined && lang !== null && (typeof lang !== 'string' || lang.trim() === '')) {
      throw new ClassifierError('data_malformed', `${where}: language field '${langField}' must be a non-empty string`);
    }
    const withLang = typeof lang === 'string' ? { lang: lang.trim() } : {};
    const label = record[labelField];
    if (label === undefined || label === null || label === '') {
      if (opts.requireLabel) throw new ClassifierError('data_missing_field', `${where}: missing label field '${labelField}'`);
      return { text: value, ...withLang };
    }
    if (typeof label !== 'string' && typeof label !== 'number' && typeof label !== 'boolean') {
      throw new ClassifierError('data_malformed', `${where}: label field '${labelField}' must be a string`);
    }
    return { text: value, label: String(label), ...withLang };
  });
  if (examples.length === 0) throw new ClassifierError('data_empty', `${path}: no examples`);
  return examples;
}

function isCsv(path: string, text: string): boolean {
  const ext = extname(path).toLowerCase();
  if (ext === '.csv') return true;
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') return false;
  return !text.trimStart().startsWith('{');
}

interface NumberedRecord {
  line: number;
  record: Record<string, unknown>;
}

function jsonlRecords(path: string, text: string): NumberedRecord[] {
  const rows = parseJsonl(text, (line, reason) => new ClassifierError('data_malformed', `${path}:${line}: malformed JSON line (${reason})`));
  return rows.map(({ line, value }) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new ClassifierError('data_malformed', `${path}:${line}: expected a JSON object per line`);
    }
    return { line, record: value as Record<string, unknown> };
  });
}

function csvRecords(path: string, text: string): NumberedRecord[] {
  let rows;
  try {
    rows = parseCsv(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    if (err instanceof CsvSyntaxError) throw new ClassifierError('data_malformed', `${path}:${err.line}: malformed CSV: ${err.message}`);
    throw err;
  }
  if (rows.length === 0) throw new ClassifierError('data_empty', `${path}: empty CSV file (a header row is required)`);
  const header = rows[0].fields.map((h) => h.trim());
  return rows.slice(1).map(({ line, fields }) => {
    if (fields.length !== header.length) {
      throw new ClassifierError('data_malformed', `${path}:${line}: expected ${header.length} fields as in the header, got ${fields.length}`);
    }
    const record: Record<string, unknown> = {};
    header.forEach((name, i) => (record[name] = fields[i]));
    return { line, record };
  });
}

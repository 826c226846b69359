/**
 * The one way the project reads a YAML file (gateway config, simulator config, experiment spec,
 * calibration table, profiles): read, parse, validate against a zod schema. Every problem is
 * reported in one format, "<file>: <key path>: <problem in plain words>", one line per problem.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYamlText, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { ExpertRouterError } from '../common/errors.js';
import { gatewayConfigSchema, type GatewayConfig } from './schema.js';

export type ConfigErrorCode = 'config_unreadable' | 'config_syntax' | 'config_invalid';

/** A configuration that cannot be used; the message names the file and the key, e.g. "gateway.yaml: experts[1].endpoints[0]: not a valid URL". */
export class ConfigError extends ExpertRouterError<ConfigErrorCode> {
  constructor(message: string, options: { code?: ConfigErrorCode; cause?: unknown } = {}) {
    super(options.code ?? 'config_invalid', message, options);
  }
}

/** Builds the error a caller's area throws (a SimError, a SpecError); ConfigError by default. */
export type YamlErrorFactory = (code: ConfigErrorCode, message: string, cause?: unknown) => Error;

export interface YamlOptions {
  /** What the file is, for the message when it cannot be read, e.g. 'experiment spec'. */
  what?: string;
  error?: YamlErrorFactory;
}

const configError: YamlErrorFactory = (code, message, cause) => new ConfigError(message, { code, cause });

/** experts[1].endpoints[0] from ['experts', 1, 'endpoints', 0]. */
export function formatKeyPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : `${out ? '.' : ''}${String(part)}`;
  return out || '(root)';
}

const READ_FAILURES: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a parent is not a directory',
};

/** Reads, parses and validates one YAML file. */
export function loadYaml<S extends z.ZodType>(schema: S, path: string | URL, options: YamlOptions = {}): z.output<S> {
  const file = path instanceof URL ? fileURLToPath(path) : path;
  const fail = options.error ?? configError;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code && READ_FAILURES[code] ? `${code} (${READ_FAILURES[code]})` : (err as Error).message;
    throw fail('config_unreadable', `cannot read ${options.what ?? 'file'} ${file}: ${reason}`, err);
  }
  return parseYaml(schema, text, file, options);
}

/** Parses YAML text and validates it; `source` names the text in messages (a file name). */
export function parseYaml<S extends z.ZodType>(schema: S, text: string, source: string, options: YamlOptions = {}): z.output<S> {
  let value: unknown;
  try {
    value = parseYamlText(text);
  } catch (err) {
    const fail = options.error ?? configError;
    throw fail('config_syntax', `${source}: not valid YAML: ${describeSyntaxError(err)}`, err);
  }
  return validate(schema, value, source, options);
}

/** Validates a parsed value; the error lists every problem as "<source>: <key path>: <problem>". */
export function validate<S extends z.ZodType>(schema: S, value: unknown, source: string, options: YamlOptions = {}): z.output<S> {
  const result = schema.safeParse(value, { error: plainMessage });
  if (result.success) return result.data;
  const fail = options.error ?? configError;
  throw fail('config_invalid', result.error.issues.map((issue) => `${source}: ${describeIssue(issue)}`).join('\n'), result.error);
}

function describeSyntaxError(err: unknown): string {
  if (err instanceof YAMLParseError) {
    const where = err.linePos ? `line ${err.linePos[0].line}, column ${err.linePos[0].col}: ` : '';
    const first = err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    return `${where}${first}`;
  }
  return err instanceof Error ? err.message : String(err);
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => formatKeyPath([...issue.path, k]));
    return `${keys.join(', ')}: unknown key${keys.length > 1 ? 's' : ''}`;
  }
  return `${formatKeyPath(issue.path)}: ${issue.message}`;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
  bigint: 'an integer',
  date: 'a date',
  null: 'null',
};

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string '${value.length > 40 ? `${value.slice(0, 40)}...` : value}'`;
  if (typeof value === 'number') return `the number ${value}`;
  return String(value);
}

function sizeWords(origin: string, n: number | bigint): string {
  if (origin === 'string') return `${n} character${n === 1 ? '' : 's'}`;
  if (origin === 'array' || origin === 'set') return `${n} item${n === 1 ? '' : 's'}`;
  return String(n);
}

/**
 * Zod's default messages ("Invalid input: expected array, received undefined") in plain words;
 * messages a schema states itself take precedence over this map and are kept as written.
 */
function plainMessage(issue: z.core.$ZodRawIssue): string {
  switch (issue.code) {
    case 'invalid_type': {
      const expected = TYPE_WORDS[issue.expected] ?? issue.expected;
      return issue.input === undefined ? `missing (expected ${expected})` : `expected ${expected}, got ${kindOf(issue.input)}`;
    }
    case 'too_small': {
      if (issue.origin === 'string' && Number(issue.minimum) === 1) return 'must not be empty';
      if ((issue.origin === 'array' || issue.origin === 'set') && Number(issue.minimum) === 1) return 'must list at least one item';
      const bound = issue.inclusive === false ? 'more than' : 'at least';
      return issue.origin === 'number' || issue.origin === 'bigint'
        ? `must be ${issue.inclusive === false ? 'greater than' : 'at least'} ${issue.minimum}, got ${kindOf(issue.input)}`
        : `must have ${bound} ${sizeWords(issue.origin, issue.minimum)}`;
    }
    case 'too_big': {
      const bound = issue.inclusive === false ? 'fewer than' : 'at most';
      return issue.origin === 'number' || issue.origin === 'bigint'
        ? `must be ${issue.inclusive === false ? 'less than' : 'at most'} ${issue.maximum}, got ${kindOf(issue.input)}`
        : `must have ${bound} ${sizeWords(issue.origin, issue.maximum)}`;
    }
    case 'invalid_value':
      if (issue.input === undefined) return `missing (expected ${issue.values.map((v) => JSON.stringify(v)).join(' or ')})`;
      return issue.values.length === 1
        ? `must be ${JSON.stringify(issue.values[0])}, got ${kindOf(issue.input)}`
        : `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${kindOf(issue.input)}`;
    case 'invalid_format':
      if (issue.format === 'regex' && 'pattern' in issue) return `${kindOf(issue.input)} does not match ${String(issue.pattern)}`;
      return issue.format === 'url' ? `not a valid URL: ${kindOf(issue.input)}` : `not a valid ${issue.format}: ${kindOf(issue.input)}`;
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor}, got ${kindOf(issue.input)}`;
    case 'invalid_union':
      return issue.note === 'No matching discriminator' && issue.discriminator
        ? `'${issue.discriminator}' is missing or not one of the allowed values`
        : `matches none of the allowed forms (got ${kindOf(issue.input)})`;
    case 'invalid_key':
      return `the key '${String(issue.input)}' is not allowed`;
    case 'invalid_element':
      return `an item is not valid`;
    case 'unrecognized_keys':
      return 'unknown key';
    default:
      return 'not a valid value';
  }
}

/** Validates a gateway configuration object (parsed YAML, or one built in code). */
export function parseGatewayConfig(obj: unknown, source = 'gateway config'): GatewayConfig {
  return validate(gatewayConfigSchema, obj, source);
}

export function loadGatewayConfig(path: string): GatewayConfig {
  return loadYaml(gatewayConfigSchema, path, { what: 'config' });
}

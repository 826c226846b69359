/**
 * References in configuration values, so that secrets never have to be written in the YAML:
 * - `${NAME}` anywhere in a string is replaced by the environment variable NAME (unset: an error);
 *   `$${` writes a literal `${`;
 * - a whole value `file:/path` is replaced by that file's contents, without trailing line breaks
 *   (as Docker and Kubernetes secrets are mounted).
 * Resolved once, when the configuration is loaded (and again on reload).
 */
import { readFileSync } from 'node:fs';

const ENV_REFERENCE = /\$(\$?)\{([^}]*)\}/g;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const FILE_PREFIX = 'file:';

/** A reference that cannot be resolved; `path` is the key path of the value. */
export interface ReferenceProblem {
  path: (string | number)[];
  message: string;
}

/** The value with its references resolved; a problem is reported and the value left as written. */
export function resolveString(value: string, env: NodeJS.ProcessEnv, report: (message: string) => void): string {
  if (value.startsWith(FILE_PREFIX)) {
    const file = value.slice(FILE_PREFIX.length);
    if (file === '') {
      report("'file:' needs a path");
      return value;
    }
    try {
      return readFileSync(file, 'utf8').replace(/[\r\n]+$/, '');
    } catch (err) {
      report(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      return value;
    }
  }
  if (!value.includes('${')) return value;
  return value.replace(ENV_REFERENCE, (whole: string, escaped: string, name: string) => {
    if (escaped) return whole.slice(1);
    if (!ENV_NAME.test(name)) {
      report(`'\${${name}}' is not a valid environment variable reference`);
      return whole;
    }
    const found = env[name];
    if (found === undefined) {
      report(`environment variable ${name} is not set`);
      return whole;
    }
    return found;
  });
}

/** A copy of a parsed YAML/JSON tree with every string's references resolved. */
export function resolveReferences(value: unknown, env: NodeJS.ProcessEnv = process.env): { value: unknown; problems: ReferenceProblem[] } {
  const problems: ReferenceProblem[] = [];
  const walk = (node: unknown, path: (string | number)[]): unknown => {
    if (typeof node === 'string') return resolveString(node, env, (message) => problems.push({ path, message }));
    if (Array.isArray(node)) return node.map((item, i) => walk(item, [...path, i]));
    if (typeof node === 'object' && node !== null) {
      return Object.fromEntries(Object.entries(node).map(([key, child]) => [key, walk(child, [...path, key])]));
    }
    return node;
  };
  return { value: walk(value, []), problems };
}

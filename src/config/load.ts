/** Parses and loads the gateway configuration; every problem names the key at fault. */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { gatewayConfigSchema, type GatewayConfig } from './schema.js';

/** A configuration that cannot be used; the message names the key, e.g. "experts[1].endpoints[0]: invalid URL". */
export class ConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConfigError';
  }
}

/** experts[1].endpoints[0] from ['experts', 1, 'endpoints', 0]. */
export function formatKeyPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : `${out ? '.' : ''}${String(part)}`;
  return out || '(root)';
}

function describe(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => formatKeyPath([...issue.path, k]));
    return `${keys.join(', ')}: unknown key${keys.length > 1 ? 's' : ''}`;
  }
  return `${formatKeyPath(issue.path)}: ${issue.message}`;
}

export function parseGatewayConfig(obj: unknown): GatewayConfig {
  const result = gatewayConfigSchema.safeParse(obj);
  if (result.success) return result.data;
  throw new ConfigError(`invalid gateway config: ${result.error.issues.map(describe).join('; ')}`);
}

export function loadGatewayConfig(path: string): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config ${path}: ${(err as Error).message}`, { cause: err });
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`config ${path} is not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  try {
    return parseGatewayConfig(value);
  } catch (err) {
    throw new ConfigError(`${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** Named experiment specs shipped in data/presets/ (e.g. `paper`, the study of arXiv 2404.15153). */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { loadExperimentSpec, SpecError, type ExperimentSpec } from './spec.js';

export const PRESET_DIR = fileURLToPath(new URL('../../data/presets/', import.meta.url));

export function presetNames(): string[] {
  return readdirSync(PRESET_DIR).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -'.yaml'.length)).sort();
}

export function loadPreset(name: string): ExperimentSpec {
  const names = presetNames();
  if (!names.includes(name)) throw new SpecError(`unknown preset '${name}' (presets: ${names.join(', ')})`, { code: 'unknown_preset' });
  return loadExperimentSpec(join(PRESET_DIR, `${name}.yaml`));
}

import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../src/config/index.js';
import { loadPreset, presetNames } from '../src/experiment/index.js';

const EXAMPLES = fileURLToPath(new URL('../examples/', import.meta.url));

describe('shipped examples and presets', () => {
  it('every gateway example in examples/ is a valid config', () => {
    const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(loadGatewayConfig(`${EXAMPLES}${f}`).experts.length).toBeGreaterThan(0);
  });

  it('every preset is a valid experiment spec', () => {
    for (const name of presetNames()) expect(loadPreset(name).name).toBe(name);
  });
});

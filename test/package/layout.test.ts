/**
 * The dependency rules of docs/architecture.md, checked on every relative import in src/: an area
 * imports only areas in rows below its own, and nothing imports src/index.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** docs/architecture.md "Dependency rules", top row first. */
const ROWS = [['cli'], ['experiment'], ['gateway', 'sim', 'harness'], ['backends', 'balancer', 'classifier'], ['transport', 'protocol', 'config', 'telemetry'], ['common']];
const ROW = new Map(ROWS.flatMap((areas, row) => areas.map((area) => [area, row] as const)));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The area of a file under src/ ('index.ts' for the package's root). */
function areaOf(file: string): string {
  const rel = relative(SRC, file);
  return rel.includes(sep) ? rel.split(sep)[0] : rel;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/g;

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => resolve(file, '..', (m[1] ?? m[2]).replace(/\.js$/, '.ts')));
}

describe('the layout', () => {
  const files = sources(SRC);

  it('puts every folder of src/ in a row of the dependency rules', () => {
    const areas = new Set(files.map(areaOf).filter((a) => a !== 'index.ts'));
    expect([...areas].filter((a) => !ROW.has(a))).toEqual([]);
  });

  it('has every import point down, never up or sideways, and nothing import src/index.ts', () => {
    const wrong: string[] = [];
    const edges = new Set<string>();
    for (const file of files) {
      const from = areaOf(file);
      for (const target of imports(file)) {
        const to = areaOf(target);
        if (to === from || from === 'index.ts') continue;
        edges.add(`${from} -> ${to}`);
        const ok = to !== 'index.ts' && (ROW.get(to) ?? -1) > (ROW.get(from) ?? Infinity);
        if (!ok) wrong.push(`${relative(SRC, file)} imports ${relative(SRC, target)}`);
      }
    }
    expect(wrong).toEqual([]);
    // The scan sees the imports it checks (the gateway's of its backends and its balancer, the CLI's of every capability).
    expect([...edges]).toEqual(expect.arrayContaining(['gateway -> backends', 'gateway -> balancer', 'cli -> experiment', 'experiment -> sim', 'sim -> protocol']));
  });
});

/**
 * The README's library examples are the files in examples/*.ts, included verbatim; each runs here
 * as a user would run it (importing 'expert-router', which tsconfig's paths map to src/) and its
 * output is checked, so an example that drifts from the API or from the README fails.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** What each example prints when it works. */
const EXPECTED: Record<string, RegExp> = {
  'classify-text.ts': /^code (0|1)\.\d\d\nmedicine\n$/,
  'gateway-from-code.ts': /^200 general true\n$/,
  'virtual-time.ts': /^64 requests done at \d+\.\d\d s of virtual time; median TTFT \d+ ms\n$/,
  'harness-level.ts': /^20 0 true true 1\n$/,
};

const examples = readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.ts')).sort();

/** The ```ts blocks of the README. */
function readmeBlocks(): string[] {
  return [...README.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
}

describe('README library examples', () => {
  it('every example file has an expected output, and the README shows each one verbatim', () => {
    expect(examples).toEqual(Object.keys(EXPECTED).sort());
    const blocks = readmeBlocks();
    for (const file of examples) {
      const text = readFileSync(join(ROOT, 'examples', file), 'utf8');
      expect(blocks, `README.md shows examples/${file}`).toContain(`// examples/${file}\n${text}`);
    }
  });

  it.each(examples)('examples/%s runs and prints what it says', async (file) => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', join('examples', file)], { cwd: ROOT, timeout: 120_000 });
    expect(stdout).toMatch(EXPECTED[file]);
  }, 150_000);
});

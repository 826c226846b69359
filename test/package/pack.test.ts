/**
 * The package as a user gets it: `npm pack`, install the tarball into an empty folder (its
 * dependencies from npm's cache, which `npm ci` filled; the npm registry only for what the cache
 * lacks), import every entry point of its `exports` map from plain Node ESM, run the
 * `expert-router` command; and publint's check of the package. Needs a build (npm test builds first).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

interface PackedFile {
  path: string;
}
interface PackResult {
  filename: string;
  files: PackedFile[];
}
interface Manifest {
  name: string;
  version: string;
  exports: Record<string, string | { types: string; default: string }>;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
}

let dir: string;
let tarball: string;
let packed: string[];
let manifest: Manifest;

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'index.js'))) throw new Error('dist/ has no index.js: run `npm run build` first (npm test does)');
  manifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as Manifest;
  dir = await mkdtemp(join(tmpdir(), 'expert-router-pack-'));
  const { stdout } = await run(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  const [result] = JSON.parse(stdout) as PackResult[];
  tarball = join(dir, result.filename);
  packed = result.files.map((f) => f.path);
  const app = join(dir, 'app');
  await run('mkdir', [app]);
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  await run(NPM, ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', '--omit=dev', tarball], { cwd: app, maxBuffer: 16 * 1024 * 1024 });
}, 240_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The import specifier of each entry point: 'expert-router', 'expert-router/sim', ... */
function specifiers(): string[] {
  return Object.keys(manifest.exports)
    .filter((key) => key !== './package.json')
    .map((key) => (key === '.' ? manifest.name : `${manifest.name}/${key.slice(2)}`));
}

describe('the published package', () => {
  it('holds the build, its types, the data and the license, and no sources, tests or source maps', () => {
    expect(packed).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'dist/index.js', 'dist/index.d.ts', 'data/calibration.yaml']));
    for (const [key, target] of Object.entries(manifest.exports)) {
      if (typeof target === 'string') continue;
      expect(packed, `exports['${key}']`).toEqual(expect.arrayContaining([target.types.slice(2), target.default.slice(2)]));
    }
    expect(packed.filter((p) => /^(src|test|benchmarks)\//.test(p) || p.endsWith('.map'))).toEqual([]);
  });

  it('ships no build output whose source is gone (a stale dist/)', () => {
    const stale = packed.filter((p) => p.startsWith('dist/') && p.endsWith('.js') && !existsSync(join(ROOT, 'src', `${p.slice('dist/'.length, -'.js'.length)}.ts`)));
    expect(stale).toEqual([]);
  });

  it('imports every entry point from plain Node ESM in a fresh folder', async () => {
    const names = specifiers();
    expect(names).toEqual(expect.arrayContaining(['expert-router', 'expert-router/classifier', 'expert-router/gateway', 'expert-router/sim', 'expert-router/harness']));
    const script = [
      `const names = ${JSON.stringify(names)};`,
      'const out = {};',
      'for (const name of names) out[name] = Object.keys(await import(name)).sort();',
      'console.log(JSON.stringify(out));',
    ].join('\n');
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: join(dir, 'app') });
    const surface = JSON.parse(stdout) as Record<string, string[]>;
    for (const name of names) expect(surface[name].length, name).toBeGreaterThan(0);
    expect(surface['expert-router']).toEqual(
      expect.arrayContaining(['trainClassifier', 'loadModel', 'startGateway', 'parseGatewayConfig', 'startSimServer', 'createEngine', 'VirtualClock', 'runBench', 'runExperiment', 'ExpertRouterError']),
    );
  });

  it('gives TypeScript the types of every entry point (strict, NodeNext resolution, as a user compiles)', async () => {
    const app = join(dir, 'app');
    const lines = specifiers().map((name, i) => `import * as entry${i} from '${name}';`);
    lines.push(`export const entries: object[] = [${specifiers().map((_, i) => `entry${i}`).join(', ')}];`);
    lines.push("import type { GatewayConfig, BenchOptions, Prediction, SimServer, ExperimentSpec } from 'expert-router';");
    lines.push('export type Used = [GatewayConfig, BenchOptions, Prediction, SimServer, ExperimentSpec];');
    await writeFile(join(app, 'check.ts'), `${lines.join('\n')}\n`);
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const flags = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', '--typeRoots', join(ROOT, 'node_modules', '@types'), '--types', 'node'];
    await run(process.execPath, [tsc, ...flags, 'check.ts'], { cwd: app });
    // The check can fail: an entry point the package does not export is refused.
    await writeFile(join(app, 'missing.ts'), "import * as nothing from 'expert-router/nothing';\nexport const x: object = nothing;\n");
    await expect(run(process.execPath, [tsc, ...flags, 'missing.ts'], { cwd: app })).rejects.toMatchObject({ stdout: expect.stringMatching(/expert-router\/nothing/) });
  }, 120_000);

  it('installs the expert-router command, which finds its package and its data', async () => {
    const bin = join(dir, 'app', 'node_modules', '.bin', 'expert-router');
    expect((await run(bin, ['--version'])).stdout.trim()).toBe(manifest.version);
    const { stdout } = await run(bin, ['sim', '--list']);
    expect(stdout).toMatch(/h100-80gb:llama-3-8b:bf16:tp1/);
  });

  it('passes publint (exports, types, files, engines, license)', async () => {
    const { messages, pkg } = await publint({ pack: { tarball: (await readFile(tarball)).buffer as ArrayBuffer }, level: 'suggestion', strict: true });
    expect(messages.map((m) => formatMessage(m, pkg) ?? m.code)).toEqual([]);
  });
});

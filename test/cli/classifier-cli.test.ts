/** The train / route / eval commands, run as a user would: a child process of the CLI, real files. */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'classifier-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], stdin?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** A clean failure: non-zero exit, one "error: ..." message, no stack trace. */
function expectCleanError(run: Run, message: RegExp): void {
  expect(run.code).not.toBe(0);
  expect(run.stderr).toMatch(/^error: /m);
  expect(run.stderr).toMatch(message);
  expect(run.stderr).not.toMatch(/\n\s+at /);
  expect(run.stdout).toBe('');
}

const labelled = ['code', 'math', 'law'].flatMap((label, i) =>
  Array.from({ length: 12 }, (_, j) => {
    const words = [
      ['python function bug', 'javascript compile error', 'git merge branch'],
      ['integral derivative equation', 'solve for x', 'probability of dice'],
      ['contract breach lawsuit', 'tenant landlord court', 'criminal defendant appeal'],
    ][i][j % 3];
    return JSON.stringify({ prompt: `question ${j}: ${words}`, label });
  }),
);
const data = file('train.jsonl', `${labelled.join('\n')}\n`);
const model = join(dir, 'model.json');

describe('expert-router train / route / eval', () => {
  it('trains a supervised model, prints its summary, and is byte-identical for the same seed', async () => {
    const run = await cli(['train', '--data', data, '--out', model, '--seed', '7']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/supervised linear model: k=3, 36 examples/);
    expect(run.stdout).toMatch(/temperature=[\d.]+ \(fitted on \d+ held-out training prompts/);
    expect(run.stdout).toMatch(/cluster\s+label\s+size\s+purity\s+top terms/);
    expect(run.stdout).toMatch(/trained in [\d.]+ s; model written to/);
    const again = join(dir, 'again.json');
    expect((await cli(['train', '--data', data, '--out', again, '--seed', '7'])).code).toBe(0);
    expect(readFileSync(again)).toEqual(readFileSync(model));
  });

  it('clusters a CSV with --k, naming clusters by majority label', async () => {
    const rows = labelled.map((l) => JSON.parse(l) as { prompt: string; label: string }).map((r) => `"${r.prompt}",${r.label}`);
    const csv = file('train.csv', `text,topic\n${rows.join('\n')}\n`);
    const out = join(dir, 'k.json');
    const run = await cli(['train', '--data', csv, '--text-field', 'text', '--label-field', 'topic', '--k', '3', '--out', out]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/unsupervised centroid model: k=3, 36 examples/);
    expect(JSON.parse(readFileSync(out, 'utf8')).metadata.mode).toBe('unsupervised');
  });

  it('routes TEXT or standard input and prints the decision as JSON', async () => {
    const run = await cli(['route', '--model', model, 'my python function has a bug']);
    expect(run.code).toBe(0);
    const decision = JSON.parse(run.stdout);
    expect(Object.keys(decision)).toEqual(['cluster', 'label', 'score', 'margin', 'confidence', 'scores']);
    expect(decision.label).toBe('code');
    expect(decision.scores).toHaveLength(3);
    expect(decision.confidence).toBeGreaterThan(1 / 3);
    expect(decision.confidence).toBeLessThanOrEqual(1);
    const piped = await cli(['route'], 'Write a haiku about the sea');
    expect(piped.code).toBe(0);
    expect(JSON.parse(piped.stdout).label).toBe('creative');
  });

  it('route --explain lists the n-grams that drove the decision per label, and the tier', async () => {
    const run = await cli(['route', '--model', model, '--explain', '--json', 'my python function has a bug']);
    expect(run.code).toBe(0);
    const e = JSON.parse(run.stdout);
    expect(e).toMatchObject({ label: 'code', tier: 'lexical' });
    expect(Object.keys(e.scores)[0]).toBe('code');
    expect(e.features.code.map((f: { term: string }) => f.term)).toContain('python');
    const text = await cli(['route', '--model', model, '--explain', '--top', '2', 'my python function has a bug']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^label=code confidence=[\d.]+ margin=[\d.]+ tier=lexical/);
    expect(text.stdout).toMatch(/code\s+[\d.]+\s+"/);
  });

  it('evaluates with --json as exactly one JSON object, and as a table without', async () => {
    const tagged = file(
      'tagged.jsonl',
      `${labelled.map((l, i) => JSON.stringify({ ...(JSON.parse(l) as object), lang: i % 2 ? 'en' : 'de' })).join('\n')}\n`,
    );
    const run = await cli(['eval', '--model', model, '--data', tagged, '--json']);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(Object.keys(report)).toEqual(['accuracy', 'macro_f1', 'per_label', 'confusion', 'n', 'by_lang', 'non_english', 'by_length', 'calibration']);
    expect(report.n).toBe(36);
    expect(report.accuracy).toBe(1);
    expect(report.confusion.law).toEqual({ code: 0, law: 12, math: 0 });
    expect(report.by_lang).toEqual({ de: { n: 18, accuracy: 1 }, en: { n: 18, accuracy: 1 } });
    expect(report.non_english).toEqual({ n: 18, accuracy: 1 });
    expect(report.by_length).toEqual({ '<80': { n: 36, accuracy: 1 } });
    expect(report.calibration.bins).toHaveLength(10);
    expect(report.calibration.ece).toBeGreaterThanOrEqual(0);
    const table = await cli(['eval', '--model', model, '--data', tagged]);
    expect(table.stdout).toMatch(/accuracy=100\.0%/);
    expect(table.stdout).toMatch(/confusion/);
    expect(table.stdout).toMatch(/by language \(non-English: 100\.0% of 18\)/);
    expect(table.stdout).toMatch(/by prompt length/);
    expect(table.stdout).toMatch(/calibration: ECE=[\d.]+/);
  });

  it('trains from a corpus folder (train/<label>/*.jsonl) and evaluates on its dev set', async () => {
    const corpus = join(dir, 'corpus');
    const rows = labelled.map((l) => JSON.parse(l) as { prompt: string; label: string });
    for (const label of ['code', 'math', 'law']) {
      mkdirSync(join(corpus, 'train', label, 'nested'), { recursive: true });
      const mine = rows.filter((r) => r.label === label).map((r) => JSON.stringify(r));
      writeFileSync(join(corpus, 'train', label, 'a.jsonl'), `${mine.slice(0, 6).join('\n')}\n`);
      writeFileSync(join(corpus, 'train', label, 'nested', 'b.jsonl'), `${mine.slice(6).join('\n')}\n`);
    }
    mkdirSync(join(corpus, 'dev'));
    writeFileSync(join(corpus, 'dev', 'all.jsonl'), `${JSON.stringify({ prompt: 'a python function with a bug', label: 'code', lang: 'en' })}\n`);
    const out = join(dir, 'folder.json');
    const run = await cli(['train', '--data', corpus, '--out', out]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/supervised linear model: k=3, 36 examples/);
    const metadata = JSON.parse(readFileSync(out, 'utf8')).metadata;
    expect(metadata.source).toBe('corpus/train/**/*.jsonl');
    expect(metadata.corpusDigest).toMatch(/^[0-9a-f]{64}$/);
    const evaluated = await cli(['eval', '--model', out, '--data', corpus, '--json']);
    expect(JSON.parse(evaluated.stdout)).toMatchObject({ n: 1, accuracy: 1, by_lang: { en: { n: 1, accuracy: 1 } } });
  });

  it('shows progress on large inputs', async () => {
    const big = file('big.jsonl', Array.from({ length: 2000 }, (_, i) => JSON.stringify({ prompt: `prompt number ${i} about ${i % 2 ? 'law' : 'code'}` })).join('\n'));
    const run = await cli(['train', '--data', big, '--k', '2', '--restarts', '1', '--out', join(dir, 'big-model.json')]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/featurize/);
  });

  it('fails cleanly on bad input', async () => {
    const malformed = file('bad.jsonl', '{"prompt":"fine","label":"a"}\n{"prompt":"fine","label":"b"}\n{"prompt": nope}\n');
    const noLabel = file('nolabel.jsonl', '{"prompt":"fine"}\n');
    const emptyText = file('empty.jsonl', '{"prompt":"fine","label":"a"}\n{"prompt":"","label":"a"}\n');
    const corrupt = file('corrupt.json', readFileSync(model, 'utf8').slice(0, 200));
    const runs = await Promise.all([
      cli(['train', '--data', join(dir, 'absent.jsonl'), '--out', join(dir, 'x.json')]),
      cli(['train', '--data', malformed, '--out', join(dir, 'x.json')]),
      cli(['train', '--data', noLabel, '--out', join(dir, 'x.json')]),
      cli(['train', '--data', data, '--k', '99', '--out', join(dir, 'x.json')]),
      cli(['train', '--data', emptyText, '--out', join(dir, 'x.json')]),
      cli(['route', '--model', model, '   ']),
      cli(['route', '--model', corrupt, 'hello']),
      cli(['eval', '--model', model, '--data', noLabel, '--json']),
    ]);
    expectCleanError(runs[0], /cannot read data file .*absent\.jsonl: no such file/);
    expectCleanError(runs[1], /bad\.jsonl:3: malformed JSON line/);
    expectCleanError(runs[2], /nolabel\.jsonl:1: missing label field 'label' \(pass --k N/);
    expectCleanError(runs[3], /--k 99 is larger than the corpus \(36 examples/);
    expectCleanError(runs[4], /empty\.jsonl:2: empty text/);
    expectCleanError(runs[5], /empty prompt/);
    expectCleanError(runs[6], /model file .*corrupt\.json is truncated/);
    expectCleanError(runs[7], /nolabel\.jsonl:1: missing label field/);
    expect(existsSync(join(dir, 'x.json'))).toBe(false);
    const usage = await cli(['train', '--data', data, '--out', join(dir, 'x.json'), '--k', 'zero']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--k must be a positive integer/);
    const kind = await cli(['train', '--data', data, '--out', join(dir, 'x.json'), '--model', 'forest']);
    expect(kind.code).toBe(2);
    expect(kind.stderr).toMatch(/--model must be 'linear' or 'centroid', got 'forest'/);
    const l2 = await cli(['train', '--data', data, '--out', join(dir, 'x.json'), '--l2', '-1']);
    expect(l2.code).toBe(2);
    expect(l2.stderr).toMatch(/--l2 must be a positive number/);
  });
});

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ClassifierError, loadModel, saveModel, serializeModel, trainClassifier } from '../../src/classifier/index.js';
import { TINY_CORPUS } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'classifier-artifact-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function failure(path: string): ClassifierError {
  try {
    loadModel(path);
  } catch (err) {
    if (err instanceof ClassifierError) return err;
    throw err;
  }
  throw new Error('loadModel did not fail');
}

describe('model artifact', () => {
  const model = trainClassifier(TINY_CORPUS, { seed: 9, centroidsPerLabel: 2 });
  const path = join(dir, 'model.json');
  saveModel(model, path);

  it('round-trips: same predictions, metadata and bytes', () => {
    const loaded = loadModel(path);
    expect(loaded.clusterLabels).toEqual(model.clusterLabels);
    expect(loaded.metadata).toEqual(model.metadata);
    for (const e of TINY_CORPUS.slice(0, 20)) expect(loaded.predict(e.text)).toEqual(model.predict(e.text));
    expect(serializeModel(loaded)).toBe(readFileSync(path, 'utf8'));
  });

  it('is byte-identical when trained again with the same seed', () => {
    const again = trainClassifier(TINY_CORPUS, { seed: 9, centroidsPerLabel: 2 });
    expect(serializeModel(again)).toBe(readFileSync(path, 'utf8'));
    const unsupervised = () => serializeModel(trainClassifier(TINY_CORPUS, { k: 4, seed: 3 }));
    expect(unsupervised()).toBe(unsupervised());
  });

  it('holds the metadata the summary needs', () => {
    const m = JSON.parse(readFileSync(path, 'utf8')).metadata;
    expect(m).toMatchObject({ mode: 'supervised', k: 6, corpusSize: TINY_CORPUS.length, seed: 9 });
    expect(m.features.dim).toBeGreaterThan(0);
    expect(m.clusters).toHaveLength(6);
    expect(m.clusters[0]).toHaveProperty('topTerms');
    expect(m.clusters[0]).toHaveProperty('purity');
  });

  const text = readFileSync(path, 'utf8');
  const cases: Array<[string, string, string, RegExp]> = [
    ['missing', '', 'file_unreadable', /no such file/],
    ['empty', ' \n', 'model_truncated', /is empty/],
    ['truncated', text.slice(0, Math.floor(text.length / 2)), 'model_truncated', /truncated/],
    ['foreign-text', 'hello, this is not a model\n', 'model_foreign', /not an expert-router classifier model/],
    ['foreign-json', JSON.stringify({ format: 'something-else', version: 1 }), 'model_foreign', /not an expert-router classifier model/],
    ['future', text.replace('"version":1', '"version":99'), 'model_version', /version 99/],
    ['bad-json', text.replace('"metadata":', '"metadata"'), 'model_corrupt', /corrupt/],
    ['altered-array', text.replace(/("centroids":\{"dtype":"float32","length":\d+,"base64":")(.)/, (_, a: string, c: string) => a + (c === 'A' ? 'B' : 'A')), 'model_corrupt', /checksum/],
    ['no-labels', text.replace(/"clusterLabels":\[[^\]]*\]/, '"clusterLabels":[]'), 'model_corrupt', /clusterLabels/],
  ];
  for (const [name, content, code, message] of cases) {
    it(`reports a ${name} file with its name`, () => {
      const file = join(dir, `${name}.json`);
      if (name !== 'missing') writeFileSync(file, content);
      const err = failure(file);
      expect(err.code).toBe(code);
      expect(err.message).toMatch(message);
      expect(err.message).toContain(file);
    });
  }
});

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ARTIFACT_VERSION, ClassifierError, loadModel, saveModel, serializeModel, trainClassifier } from '../../src/classifier/index.js';
import { quantizeCentroids, quantizeLinear } from '../../src/classifier/model.js';
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
  const model = trainClassifier(TINY_CORPUS, { seed: 9, model: 'centroid', centroidsPerLabel: 2 });
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
    const again = trainClassifier(TINY_CORPUS, { seed: 9, model: 'centroid', centroidsPerLabel: 2 });
    expect(serializeModel(again)).toBe(readFileSync(path, 'utf8'));
    const unsupervised = () => serializeModel(trainClassifier(TINY_CORPUS, { k: 4, seed: 3 }));
    expect(unsupervised()).toBe(unsupervised());
  });

  it('round-trips a linear model: same probabilities, temperature and bytes', () => {
    const linear = trainClassifier(TINY_CORPUS, { seed: 9 });
    expect(linear.metadata.kind).toBe('linear');
    const linearPath = join(dir, 'linear.json');
    saveModel(linear, linearPath);
    const loaded = loadModel(linearPath);
    expect(loaded.metadata).toEqual(linear.metadata);
    for (const e of TINY_CORPUS) expect(loaded.predict(e.text)).toEqual(linear.predict(e.text));
    expect(serializeModel(loaded)).toBe(readFileSync(linearPath, 'utf8'));
    expect(serializeModel(trainClassifier(TINY_CORPUS, { seed: 9 }))).toBe(readFileSync(linearPath, 'utf8'));
  });

  it('stores the text budget, so a loaded model reads as much text as training did', () => {
    const budgeted = trainClassifier(TINY_CORPUS, { seed: 9, features: { textBudget: 40, ngramBudget: 16 } });
    const budgetPath = join(dir, 'budget.json');
    saveModel(budgeted, budgetPath);
    const loaded = loadModel(budgetPath);
    expect(loaded.metadata.features).toMatchObject({ textBudget: 40, ngramBudget: 16 });
    const text = TINY_CORPUS[0].text.padEnd(40, '.');
    const tail = TINY_CORPUS[TINY_CORPUS.length - 1].text;
    expect(loaded.predict(text + tail)).toEqual(loaded.predict(text));
    expect(loaded.predict(text + tail)).toEqual(budgeted.predict(text + tail));
  });

  it('holds the metadata the summary needs', () => {
    const m = JSON.parse(readFileSync(path, 'utf8')).metadata;
    expect(m).toMatchObject({ kind: 'centroid', mode: 'supervised', k: 6, corpusSize: TINY_CORPUS.length, seed: 9, linear: null });
    expect(m.temperature).toBeGreaterThan(0);
    expect(m.features.dim).toBeGreaterThan(0);
    expect(m.features.ngramBudget).toBeLessThanOrEqual(m.features.textBudget);
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
    ['future', text.replace(`"version":${ARTIFACT_VERSION}`, '"version":99'), 'model_version', /version 99/],
    // Version 1 stored float32 centroids; its files are refused with a hint rather than misread.
    ['old-version', text.replace(`"version":${ARTIFACT_VERSION}`, '"version":1'), 'model_version', new RegExp(`version 1; this build reads version ${ARTIFACT_VERSION} \\(train the model again\\)`)],
    ['bad-json', text.replace('"metadata":', '"metadata"'), 'model_corrupt', /corrupt/],
    ['altered-array', text.replace(/("weights":\{"dtype":"uint8","length":\d+,"base64":")(.)/, (_, a: string, c: string) => a + (c === 'A' ? 'B' : 'A')), 'model_corrupt', /checksum/],
    ['altered-steps', text.replace(/("steps":\{"dtype":"float32","length":\d+,"base64":")(.)/, (_, a: string, c: string) => a + (c === 'A' ? 'B' : 'A')), 'model_corrupt', /checksum/],
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

describe('linear quantisation', () => {
  it('keeps signed weights within half a step, around byte 128, the largest |weight| exact', () => {
    const k = 3;
    const weights = Float32Array.from([0.5, -0.2, 0, 0, 0, 0, -0.9, 0.3, 0.001]);
    const { values, steps } = quantizeLinear(weights, 3, k);
    expect(Array.from(values.subarray(0, 3))).toEqual([255, 128 - 51, 128]);
    expect(Array.from(values.subarray(3, 6))).toEqual([128, 128, 128]);
    expect(values[6]).toBe(1);
    for (let i = 0; i < weights.length; i++) {
      const step = steps[Math.floor(i / k)];
      expect(Math.abs((values[i] - 128) * step - weights[i])).toBeLessThanOrEqual(step / 2 + 1e-9);
    }
  });
});

describe('centroid quantisation', () => {
  it('keeps each weight within half a step of its row maximum / 255, the maximum exact', () => {
    const k = 3;
    const centroids = Float32Array.from([0.5, 0.2, 0, 0, 0, 0, 0.001, 0.9, 0.3]);
    const { values, steps } = quantizeCentroids(centroids, 3, k);
    expect(Array.from(values.subarray(0, 3))).toEqual([255, 102, 0]);
    expect(Array.from(values.subarray(3, 6))).toEqual([0, 0, 0]);
    expect(steps[1]).toBe(0);
    for (let i = 0; i < centroids.length; i++) {
      const step = steps[Math.floor(i / k)];
      expect(Math.abs(values[i] * step - centroids[i])).toBeLessThanOrEqual(step / 2 + 1e-9);
    }
  });

  it('moves predictions little: scores stay cosines against the stored centroids', () => {
    const model = trainClassifier(TINY_CORPUS, { seed: 9, model: 'centroid', centroidsPerLabel: 2 });
    for (const e of TINY_CORPUS) {
      const p = model.predict(e.text);
      expect(p.score).toBeLessThanOrEqual(1 + 1e-9);
      expect(p.label).toBe(e.label);
    }
  });
});

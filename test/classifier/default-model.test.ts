import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildDefaultModel, corpusDigest, DEFAULT_MODEL_PATH, defaultModel, parseModel, serializeModel } from '../../src/classifier/index.js';

describe('the shipped default model (data/models/default.json)', () => {
  it('was built from the corpus as it is now (rebuild: expert-router train --data data/corpus --out data/models/default.json)', () => {
    expect(defaultModel().metadata.corpusDigest).toBe(corpusDigest());
  });

  it('is the default learner with its default settings, seeded', () => {
    const m = parseModel(readFileSync(DEFAULT_MODEL_PATH, 'utf8'), DEFAULT_MODEL_PATH).metadata;
    expect(m).toMatchObject({ kind: 'linear', mode: 'supervised', seed: 42, source: 'corpus/train/**/*.jsonl' });
    expect(m.labels).toEqual(['code', 'creative', 'general', 'law', 'math', 'medicine']);
    expect(m.linear!.heldOut).toBeGreaterThan(0);
  });

  it('is what training from the corpus gives, byte for byte (deterministic with its seed)', () => {
    expect(serializeModel(buildDefaultModel()) === readFileSync(DEFAULT_MODEL_PATH, 'utf8')).toBe(true);
  }, 180_000);
});

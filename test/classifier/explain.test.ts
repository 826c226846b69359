import { describe, expect, it } from 'vitest';
import { explain, explainPrediction, trainClassifier } from '../../src/classifier/index.js';
import { TINY_CORPUS } from './fixtures.js';

describe('explain', () => {
  const linear = trainClassifier(TINY_CORPUS, { seed: 1 });
  const centroid = trainClassifier(TINY_CORPUS, { seed: 1, model: 'centroid' });

  it('names the n-grams of the prompt that favour each label, the chosen label first', () => {
    for (const model of [linear, centroid]) {
      const e = explainPrediction(model, 'my python function throws a compile error', 4);
      expect(e.label).toBe('code');
      expect(e.tier).toBe('lexical');
      expect(Object.keys(e.scores)).toHaveLength(3);
      expect(Object.keys(e.scores)[0]).toBe('code');
      expect(e.confidence).toBe(model.predict('my python function throws a compile error').confidence);
      const code = e.features.code;
      expect(code.length).toBeGreaterThan(0);
      expect(code.length).toBeLessThanOrEqual(4);
      // Heaviest first, all positive, and each a piece of the prompt.
      for (let i = 1; i < code.length; i++) expect(code[i].weight).toBeLessThanOrEqual(code[i - 1].weight);
      for (const f of code) {
        expect(f.weight).toBeGreaterThan(0);
        expect(' my python function throws a compile error '.replace(/ /g, '_')).toContain(f.term.replace(/ /g, '_'));
      }
      expect(code.map((f) => f.term).some((t) => /python|pyth|compil|ompi|error|erro|rror|funct/.test(t))).toBe(true);
    }
  });

  it('linear: each known feature favours some label, and no feature is listed twice under one', () => {
    const text = 'solve the equation with the derivative of sin';
    const e = explainPrediction(linear, text, 1000);
    expect(e.label).toBe('math');
    for (const list of Object.values(e.features)) expect(new Set(list.map((f) => `${f.kind}:${f.term}`)).size).toBe(list.length);
    // Linear contributions are centred over the labels, so each feature is positive for at least one.
    const listed = new Set(Object.values(e.features).flatMap((list) => list.map((f) => `${f.kind}:${f.term}`)));
    expect(listed.size).toBeGreaterThan(0);
    expect(e.knownFeatures).toBeGreaterThanOrEqual(listed.size);
  });

  it('explains Chinese by its characters and character pairs', () => {
    const model = trainClassifier(
      [
        ...['写一个Python函数', '这段代码有错误', '如何调试程序', '代码运行报错了'].map((text) => ({ text, label: 'code' })),
        ...['解这个方程', '求函数的导数', '计算三角形面积', '证明这个定理'].map((text) => ({ text, label: 'math' })),
      ],
      { seed: 1, model: 'centroid' },
    );
    const e = explainPrediction(model, '这个代码有问题');
    expect(e.label).toBe('code');
    expect(e.features.code.map((f) => f.term)).toContain('代码');
  });

  it('uses the built-in model by default', () => {
    const e = explain('Write a haiku about the first snow of winter');
    expect(e.label).toBe('creative');
    expect(e.features.creative.length).toBeGreaterThan(0);
  });
});

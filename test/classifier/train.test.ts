import { describe, expect, it } from 'vitest';
import { ClassifierError, defaultModel, evaluate, trainClassifier, type PromptClassifier } from '../../src/classifier/index.js';
import { TINY_CORPUS, TOPIC_PAIRS } from './fixtures.js';

describe('trainClassifier', () => {
  it('supervised centroids: one per label, more on request', () => {
    const model = trainClassifier(TINY_CORPUS, { seed: 1, model: 'centroid' });
    expect(model.k).toBe(3);
    expect(model.clusterLabels).toEqual(['code', 'law', 'math']);
    expect(model.metadata).toMatchObject({ kind: 'centroid', mode: 'supervised', corpusSize: TINY_CORPUS.length, purity: 1 });
    expect(model.metadata.clusters.map((c) => c.size)).toEqual([30, 30, 30]);
    expect(model.metadata.clusters[0].topTerms.length).toBeGreaterThan(0);
    expect(model.predict('my python function throws a compile error').label).toBe('code');
    expect(model.predict('the defendant appealed to the court').label).toBe('law');
    const two = trainClassifier(TINY_CORPUS, { seed: 1, model: 'centroid', centroidsPerLabel: 2 });
    expect(two.clusterLabels).toEqual(['code', 'code', 'law', 'law', 'math', 'math']);
  });

  it('centroid prediction carries scores for every cluster and the margin between the best two', () => {
    const model = trainClassifier(TINY_CORPUS, { seed: 1, model: 'centroid' });
    const p = model.predict('derivative of sin and the integral of x');
    expect(p.label).toBe('math');
    expect(p.scores).toHaveLength(3);
    expect(p.score).toBe(Math.max(...p.scores));
    const [first, second] = [...p.scores].sort((a, b) => b - a);
    expect(p.margin).toBeCloseTo(first - second, 12);
    expect(p.score).toBeLessThanOrEqual(1 + 1e-9);
    expect(model.predict('').scores.every((s) => s === 0)).toBe(true);
  });

  it('supervised by default: a linear model whose scores are calibrated probabilities', () => {
    const model = trainClassifier(TINY_CORPUS, { seed: 1 });
    expect(model.metadata.kind).toBe('linear');
    expect(model.clusterLabels).toEqual(['code', 'law', 'math']);
    expect(model.metadata.linear).toMatchObject({ l2: expect.any(Number), heldOut: 9 });
    expect(model.metadata.temperature).toBeGreaterThan(0);
    const p = model.predict('derivative of sin and the integral of x');
    expect(p.label).toBe('math');
    expect(p.scores.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(p.score).toBe(Math.max(...p.scores));
    expect(p.confidence).toBe(p.score);
    const [first, second] = [...p.scores].sort((a, b) => b - a);
    expect(p.margin).toBeCloseTo(first - second, 12);
    expect(model.predict('my python function throws a compile error').label).toBe('code');
    expect(model.predict('the defendant appealed to the court').label).toBe('law');
  });

  it('linear: the same seed gives the same weights', () => {
    const a = trainClassifier(TINY_CORPUS, { seed: 4 });
    const b = trainClassifier(TINY_CORPUS, { seed: 4 });
    expect(b.parts.weights.values).toEqual(a.parts.weights.values);
    expect(b.parts.bias).toEqual(a.parts.bias);
    expect(b.metadata).toEqual(a.metadata);
  });

  it('unsupervised: k clusters named by majority label, or cluster-N without labels', () => {
    const named = trainClassifier(TOPIC_PAIRS, { k: 3, seed: 5, restarts: 5 });
    expect(named.metadata.mode).toBe('unsupervised');
    expect([...named.clusterLabels].sort()).toEqual(['code', 'law', 'math']);
    expect(named.metadata.purity).toBe(1);
    expect(named.metadata.clusters.map((c) => c.size)).toEqual([15, 15, 15]);
    const bare = trainClassifier(TINY_CORPUS.map(({ text }) => ({ text })), { k: 2, seed: 5 });
    expect(bare.clusterLabels).toEqual(['cluster-0', 'cluster-1']);
    expect(bare.metadata.purity).toBeNull();
    expect(bare.metadata.clusters[0].purity).toBeNull();
  });

  it('keeps at most maxFeatures features, the most frequent, treating the rest as unseen', () => {
    const full = trainClassifier(TINY_CORPUS, { seed: 1 });
    const capped = trainClassifier(TINY_CORPUS, { seed: 1, features: { maxFeatures: 40 } });
    expect(full.metadata.featureCount).toBeGreaterThan(40);
    expect(capped.metadata.featureCount).toBe(40);
    expect(capped.memoryBytes()).toBeLessThan(full.memoryBytes());
    const p = capped.predict('python function compile error');
    expect(p.scores).toHaveLength(3);
    expect(p.score).toBeGreaterThan(0);
  });

  it('rejects bad input with a stable code', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return err instanceof ClassifierError ? err.code : 'other';
      }
      return 'none';
    };
    expect(code(() => trainClassifier([], {}))).toBe('data_empty');
    expect(code(() => trainClassifier(TINY_CORPUS, { k: 1000 }))).toBe('invalid_option');
    expect(code(() => trainClassifier([{ text: ' ', label: 'x' }], {}))).toBe('data_empty_text');
    expect(code(() => trainClassifier([{ text: 'hello' }], { supervised: true }))).toBe('data_missing_field');
    expect(code(() => trainClassifier(TINY_CORPUS, { seed: -1 }))).toBe('invalid_option');
    expect(code(() => trainClassifier(TINY_CORPUS, { supervised: false }))).toBe('invalid_option');
    expect(code(() => trainClassifier(TINY_CORPUS, { k: 3, model: 'linear' }))).toBe('invalid_option');
    expect(code(() => trainClassifier(TINY_CORPUS, { l2: 0 }))).toBe('invalid_option');
    expect(code(() => trainClassifier(TINY_CORPUS, { calibrationShare: 0.9 }))).toBe('invalid_option');
  });
});

describe('evaluate', () => {
  it('computes accuracy, per-label scores, macro-F1 and the confusion matrix', () => {
    const answers: Record<string, string> = { a1: 'a', a2: 'a', a3: 'b', b1: 'b', b2: 'c' };
    const fake: PromptClassifier = {
      k: 3,
      clusterLabels: ['a', 'b', 'c'],
      predict: (text) => ({ cluster: 0, label: answers[text], score: 1, margin: 1, confidence: 1, scores: [1, 0, 0] }),
    };
    const report = evaluate(fake, [
      { text: 'a1', label: 'a' },
      { text: 'a2', label: 'a' },
      { text: 'a3', label: 'a' },
      { text: 'b1', label: 'b' },
      { text: 'b2', label: 'b' },
    ]);
    expect(report.n).toBe(5);
    expect(report.accuracy).toBeCloseTo(3 / 5);
    expect(report.confusion).toEqual({ a: { a: 2, b: 1, c: 0 }, b: { a: 0, b: 1, c: 1 }, c: { a: 0, b: 0, c: 0 } });
    expect(report.per_label.a).toEqual({ precision: 1, recall: 2 / 3, f1: 0.8, support: 3 });
    expect(report.per_label.b.precision).toBeCloseTo(0.5);
    expect(report.per_label.b.recall).toBeCloseTo(0.5);
    expect(report.per_label.c).toEqual({ precision: 0, recall: 0, f1: 0, support: 0 });
    expect(report.macro_f1).toBeCloseTo((0.8 + 0.5 + 0) / 3);
    expect(() => evaluate(fake, [{ text: 'a1' }])).toThrow(/no label/);
  });
});

describe('defaultModel', () => {
  it('is the shipped artifact, loaded once, with the six labels, and routes obvious prompts', () => {
    const model = defaultModel();
    expect(defaultModel()).toBe(model);
    expect(model.metadata).toMatchObject({ kind: 'linear', mode: 'supervised' });
    expect([...new Set(model.clusterLabels)].sort()).toEqual(['code', 'creative', 'general', 'law', 'math', 'medicine']);
    expect(model.predict('Why does my Python script raise TypeError: list indices must be integers?').label).toBe('code');
    expect(model.predict('Solve for x: 3x + 7 = 22').label).toBe('math');
    expect(model.predict('What are the common side effects of metformin in patients with type 2 diabetes?').label).toBe('medicine');
    expect(model.predict('Is a verbal contract legally binding if the defendant never signed anything?').label).toBe('law');
    expect(model.predict('Write a short poem about autumn leaves').label).toBe('creative');
  });

  it('ignores text beyond its text budget: a long tail on a different topic changes nothing', () => {
    const model = defaultModel();
    const { textBudget } = model.metadata.features;
    let head = 'Is a verbal contract legally binding if the defendant never signed anything? ';
    while (head.length < textBudget) head += 'The plaintiff relies on the statute of frauds and on promissory estoppel. ';
    // About 15 KB of varied Python: read whole, this prompt would route to code.
    const names = ['parse', 'render', 'fetch', 'merge', 'split', 'sort', 'load', 'dump', 'walk', 'index', 'cache', 'queue'];
    const tail = names.flatMap((a) => names.map((b) => `\ndef ${a}_${b}(items):\n    return [${b}(x) for x in items if x is not None]  # TypeError\n`)).join('');
    const before = model.predict(head);
    expect(before.label).toBe('law');
    // The tail alone routes to code, so only the budget keeps it out.
    expect(model.predict(tail).label).toBe('code');
    expect(model.predict(head + tail)).toEqual(before);
  });
});

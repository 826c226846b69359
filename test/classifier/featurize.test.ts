import { describe, expect, it } from 'vitest';
import { DEFAULT_FEATURES, Featurizer, type FeatureSettings } from '../../src/classifier/featurize.js';
import { ClassifierError } from '../../src/classifier/errors.js';

/** The feature multiset of a text as a sorted list of "index:count". */
function features(f: Featurizer, text: string): string[] {
  const n = f.scan(text);
  const out = Array.from(f.touched.subarray(0, n), (i) => `${i}:${f.count(i)}`).sort();
  f.clear(n);
  return out;
}

describe('Featurizer', () => {
  const f = new Featurizer();

  it('is deterministic and leaves its scratch space clean', () => {
    const a = features(f, 'How do I reverse a linked list in Python?');
    expect(features(f, 'How do I reverse a linked list in Python?')).toEqual(a);
    expect(f.table.every((c) => c === 0)).toBe(true);
  });

  it('lower-cases, applies NFKC and collapses whitespace', () => {
    expect(features(f, 'Reverse  A\tLIST')).toEqual(features(f, 'reverse a list'));
    // Full-width letters and the "fi" ligature are compatibility forms of plain ASCII.
    expect(features(f, 'ＡＢＣ ﬁle')).toEqual(features(f, 'abc file'));
    // Precomposed and combining accents normalise to the same text.
    expect(features(f, 'caf\u00e9 au lait')).toEqual(features(f, 'cafe\u0301 au lait'));
  });

  it('folds digits so numbers of one shape share features', () => {
    expect(features(f, 'she has 12 apples')).toEqual(features(f, 'she has 47 apples'));
    expect(features(f, 'she has 12 apples')).not.toEqual(features(f, 'she has 123 apples'));
    const keep = new Featurizer({ ...DEFAULT_FEATURES, foldDigits: false });
    expect(features(keep, 'she has 12 apples')).not.toEqual(features(keep, 'she has 47 apples'));
  });

  it('counts repeated tokens and emits word, bigram and character n-gram features', () => {
    const words = new Featurizer({ ...DEFAULT_FEATURES, wordNgrams: 1, charNgramMax: 0 });
    expect(features(words, 'law law law')).toHaveLength(1);
    expect(features(words, 'law law law')[0]).toMatch(/:3$/);
    const bigrams = new Featurizer({ ...DEFAULT_FEATURES, wordNgrams: 2, charNgramMax: 0 });
    expect(features(bigrams, 'red car')).toHaveLength(3);
    const chars = new Featurizer({ ...DEFAULT_FEATURES, wordNgrams: 0, charNgramMin: 3, charNgramMax: 3 });
    // " abcd " (virtual spaces at both ends) has four 3-grams: " ab", "abc", "bcd", "cd ".
    expect(features(chars, 'abcd')).toHaveLength(4);
    const mixed = new Featurizer({ ...DEFAULT_FEATURES, wordNgrams: 0, charNgramMin: 1, charNgramMax: 5 });
    // Lengths 1..5 over " ab ": 4 + 3 + 2 + 1 + 0 n-grams, the two spaces sharing one 1-gram.
    expect(features(mixed, 'ab')).toHaveLength(9);
  });

  it('names word features with the index scan uses', () => {
    const words = new Featurizer({ ...DEFAULT_FEATURES, wordNgrams: 1, charNgramMax: 0 });
    const terms = words.wordTerms('Contract Law, tort.');
    expect(terms.map(([, t]) => t)).toEqual(['contract', 'law', 'tort']);
    expect(terms.map(([i]) => `${i}:1`).sort()).toEqual(features(words, 'Contract Law, tort.'));
  });

  it('handles empty, huge and non-ASCII text', () => {
    expect(features(f, '')).toEqual([]);
    expect(features(f, '   \n ')).toEqual([]);
    expect(features(f, 'x'.repeat(100_000)).length).toBeGreaterThan(0);
    expect(features(f, '“Quoted” — 東京 naïve')).toEqual(features(f, '“QUOTED” — 東京 NAÏVE'));
  });

  it('reads words only from the first textBudget chars, word pairs and character n-grams from the first ngramBudget', () => {
    const budget = new Featurizer({ ...DEFAULT_FEATURES, textBudget: 24, ngramBudget: 12 });
    const head = 'contract law tort claims ';
    expect(head.length).toBeGreaterThan(24);
    // Beyond textBudget nothing counts, whether or not the tail needs NFKC.
    expect(features(budget, head + 'python code')).toEqual(features(budget, head));
    expect(features(budget, head + 'ＰＹＴＨＯＮ ﬁle')).toEqual(features(budget, head));
    expect(features(budget, head.slice(0, 24))).toEqual(features(budget, head));
    // Between the two budgets, words still count but word pairs and character n-grams do not.
    const words = new Featurizer({ ...DEFAULT_FEATURES, wordNgrams: 1, charNgramMax: 0, textBudget: 24, ngramBudget: 12 });
    const pairs = new Featurizer({ ...DEFAULT_FEATURES, wordNgrams: 2, charNgramMax: 0, textBudget: 24, ngramBudget: 12 });
    // "contract law" (12 chars): two words and their pair; "tort" adds one word but no pair.
    expect(features(pairs, 'contract law')).toHaveLength(3);
    expect(features(pairs, 'contract law tort')).toHaveLength(4);
    const chars = new Featurizer({ ...DEFAULT_FEATURES, wordNgrams: 0, textBudget: 24, ngramBudget: 12 });
    expect(features(words, 'contract law tort')).not.toEqual(features(words, 'contract law'));
    expect(features(chars, 'contract law tort')).toEqual(features(chars, 'contract law'));
    expect(features(chars, 'contract law')).not.toEqual(features(chars, 'contract'));
  });

  it('rejects bad settings with the field named', () => {
    const bad = (s: Partial<FeatureSettings>) => () => new Featurizer({ ...DEFAULT_FEATURES, ...s });
    expect(bad({ dim: 1000 })).toThrow(/'dim'/);
    expect(bad({ charNgramMin: 5, charNgramMax: 3 })).toThrow(/'charNgramMin'/);
    expect(bad({ charNgramMax: 9 })).toThrow(/'charNgramMax'/);
    expect(bad({ wordNgrams: 0, charNgramMax: 0 })).toThrow(ClassifierError);
    expect(bad({ idfPower: 0 })).toThrow(/'idfPower'/);
    expect(bad({ textBudget: 0 })).toThrow(/'textBudget'/);
    expect(bad({ textBudget: 100, ngramBudget: 200 })).toThrow(/'ngramBudget'/);
  });
});

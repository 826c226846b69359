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
    const terms = words.terms('Contract Law, tort.');
    expect(terms.map((t) => t.term)).toEqual(['contract', 'law', 'tort']);
    expect(terms.map((t) => `${t.index}:1`).sort()).toEqual(features(words, 'Contract Law, tort.'));
  });

  it('names every feature scan counts, with the same counts, whatever the script, settings and length', () => {
    const texts = [
      'How do I reverse a linked list in Python? I tried list[::-1]',
      '用Python写一个快速排序算法，并解释时间复杂度。',
      '次の関数のバグを直してください：def f(x): return x+1',
      'Напишите стихотворение о зимнем лесе, пожалуйста',
      'هل يمكنك شرح قانون العقود في مصر؟',
      'कृपया इस समीकरण को हल करें: 2x + 3 = 11',
      'ช่วยเขียนโค้ด JavaScript สำหรับปุ่มหน่อย',
      '파이썬으로 웹 크롤러를 만드는 방법을 알려주세요',
      'ＡＢＣ ﬁle café́ Ωμέγα ΣΟΦΟΣ',
      `${'a long prompt with many words '.repeat(60)} 结尾的中文`,
    ];
    const settings: FeatureSettings[] = [
      DEFAULT_FEATURES,
      { ...DEFAULT_FEATURES, charNgramMin: 1, charNgramMax: 5, spacelessNgrams: 1 },
      { ...DEFAULT_FEATURES, spacelessNgrams: 0, foldDigits: false, textBudget: 100, ngramBudget: 40 },
    ];
    for (const s of settings) {
      const g = new Featurizer(s);
      for (const text of texts) {
        const counts = new Map<number, number>();
        for (const t of g.terms(text)) counts.set(t.index, Math.min(255, (counts.get(t.index) ?? 0) + 1));
        expect([...counts].map(([i, c]) => `${i}:${c}`).sort()).toEqual(features(g, text));
      }
    }
  });

  it('reads scripts without spaces as characters and character pairs, not as one giant word', () => {
    const g = new Featurizer({ ...DEFAULT_FEATURES, charNgramMax: 0 });
    const terms = g.terms('我想学习机器学习');
    expect(terms.filter((t) => t.kind === 'word')).toEqual([]);
    expect(terms.filter((t) => t.kind === 'character').map((t) => t.term)).toEqual([...'我想学习机器学习']);
    expect(terms.filter((t) => t.kind === 'character pair').map((t) => t.term)).toEqual(['我想', '想学', '学习', '习机', '机器', '器学', '学习']);
    // "学习" occurs twice: one feature counted twice, shared with any other text that has the word.
    expect(features(g, '我想学习机器学习').some((f) => f.endsWith(':2'))).toBe(true);
    const a = new Set(features(g, '机器学习是什么').map((f) => f.split(':')[0]));
    const b = features(g, '我在学习机器学习').map((f) => f.split(':')[0]);
    expect(b.filter((i) => a.has(i)).length).toBeGreaterThanOrEqual(4);
    // Punctuation and Latin words end a run; Latin words around CJK stay words.
    const mixed = g.terms('用Python，写代码');
    expect(mixed.filter((t) => t.kind === 'word').map((t) => t.term)).toEqual(['python']);
    expect(mixed.filter((t) => t.kind === 'character pair').map((t) => t.term)).toEqual(['写代', '代码']);
    // Japanese kana and Korean Hangul too; Cyrillic and Devanagari form words.
    expect(g.terms('ありがとう').filter((t) => t.kind === 'character')).toHaveLength(5);
    expect(g.terms('안녕 하세요').filter((t) => t.kind === 'character pair').map((t) => t.term)).toEqual(['안녕', '하세', '세요']);
    expect(g.terms('Решите уравнение').filter((t) => t.kind === 'word').map((t) => t.term)).toEqual(['решите', 'уравнение']);
    expect(g.terms('समीकरण हल करें').filter((t) => t.kind === 'word').map((t) => t.term)).toEqual(['समीकरण', 'हल', 'करें']);
    // Character n-grams leave out those ending in a spaceless character (the characters and pairs read them).
    const grams = new Featurizer(DEFAULT_FEATURES).terms('用Python写代码').filter((t) => t.kind === 'character n-gram');
    expect(grams.map((t) => t.term)).toEqual(['_用py', '用pyt', 'pyth', 'ytho', 'thon', '写代码_']);
    // With spacelessNgrams 0 a run is one word, as before.
    const old = new Featurizer({ ...DEFAULT_FEATURES, charNgramMax: 0, spacelessNgrams: 0 });
    expect(old.terms('我想学习').map((t) => t.term)).toEqual(['我想学习']);
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

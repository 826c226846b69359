import { describe, expect, it } from 'vitest';
import { findNearDuplicates, NearDuplicateIndex, readDefaultCorpus } from '../../src/classifier/index.js';
import { jaccard, shingles } from '../../src/classifier/near-duplicates.js';

describe('near-duplicates', () => {
  it('finds copies with small edits, not prompts that only share a frame', () => {
    const texts = [
      'How do I reverse a linked list in Python without using extra memory?',
      'how do I reverse a linked list in python without using extra memory',
      'How do I reverse a linked list in Python without using extra memory? Thanks!',
      'Write a haiku about the sea',
      'Write a haiku about the moon',
      '请用Python写一个快速排序算法，并解释时间复杂度。',
      '请用Python写一个快速排序算法,并解释时间复杂度',
      '请用Java写一个二分查找算法',
    ];
    const pairs = findNearDuplicates(texts).map((d) => `${d.a}-${d.b}`);
    expect(pairs).toEqual(['0-1', '0-2', '1-2', '5-6']);
    for (const d of findNearDuplicates(texts)) expect(d.similarity).toBeGreaterThanOrEqual(0.8);
    // A lower threshold (as for development prompts against training prompts) also catches the shared frame.
    expect(findNearDuplicates(texts, { threshold: 0.7 }).map((d) => `${d.a}-${d.b}`)).toContain('3-4');
  });

  it('is exact Jaccard over character 5-gram shingles, case, width and whitespace folded', () => {
    expect(jaccard(shingles('abcdefg'), shingles('ABCDEFG'))).toBe(1);
    // abcde bcdef cdefg vs abcde bcdef cdefh: 2 shared of 4.
    expect(jaccard(shingles('abcdefg'), shingles('abcdefh'))).toBeCloseTo(2 / 4, 12);
    expect(jaccard(shingles('ＡＢＣ  def\nghi'), shingles('abc def ghi'))).toBe(1);
    expect(shingles('hi').length).toBe(1);
  });

  it('an index answers queries from another set (dev against train) with the similarity', () => {
    const index = new NearDuplicateIndex({ threshold: 0.5 });
    index.add('What caused the fall of the Western Roman Empire?');
    index.add('Explain the rules of cricket to an American');
    expect(index.size).toBe(2);
    const hits = index.query('What caused the fall of the Western Roman Empire? Short answer pls');
    expect(hits.map((h) => h.id)).toEqual([0]);
    expect(hits[0].similarity).toBeGreaterThan(0.5);
    expect(index.query('Solve x^2 = 4')).toEqual([]);
    expect(() => new NearDuplicateIndex({ threshold: 0 })).toThrow(/threshold/);
  });

  it('runs over the whole training corpus in seconds', () => {
    const texts = readDefaultCorpus().map((e) => e.text);
    const started = process.hrtime.bigint();
    findNearDuplicates(texts);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    expect(texts.length).toBeGreaterThan(1000);
    // Not a timing assertion on the machine's speed: a generous bound that only a quadratic scan would miss.
    expect(seconds).toBeLessThan(60);
  });
});

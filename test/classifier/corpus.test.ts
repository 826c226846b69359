/**
 * The project corpus (data/corpus) against the minimums, and kept clean: no near-duplicates within the
 * training prompts, no development prompt near a training prompt, every row well-formed and in its label's folder.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_LANG, listCorpusFiles, NearDuplicateIndex, readDefaultCorpus, readDevSet } from '../../src/classifier/index.js';
import { findNearDuplicates } from '../../src/classifier/near-duplicates.js';

const LABELS = ['code', 'creative', 'general', 'law', 'math', 'medicine'];
/** Development prompts are held to a stricter bar than training prompts among themselves. */
const DEV_TRAIN_THRESHOLD = 0.7;

describe('the project corpus', () => {
  const train = readDefaultCorpus();
  const dev = readDevSet();

  it('has at least 12,000 training prompts, 1,500 per label, and only the six labels', () => {
    expect(train.length).toBeGreaterThanOrEqual(12_000);
    const counts = new Map<string, number>();
    for (const e of train) counts.set(e.label!, (counts.get(e.label!) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual(LABELS);
    for (const label of LABELS) expect(counts.get(label), label).toBeGreaterThanOrEqual(1500);
  });

  it('keeps each training row in its label folder, with a language code', () => {
    const files = listCorpusFiles();
    for (const f of files) expect(LABELS.map((l) => `train/${l}/`).some((p) => f.startsWith(p)), f).toBe(true);
    for (const e of [...train, ...dev]) expect(e.lang, e.text.slice(0, 60)).toMatch(/^[a-z]{2,3}(-[A-Za-z]{2,4})?$/);
  });

  it('is at least 30% not in English, in ten or more other languages', () => {
    const other = train.filter((e) => e.lang !== DEFAULT_LANG);
    expect(other.length / train.length).toBeGreaterThanOrEqual(0.3);
    expect(new Set(other.map((e) => e.lang)).size).toBeGreaterThanOrEqual(10);
  });

  it('has a development set of at least 150 prompts per label', () => {
    for (const label of LABELS) expect(dev.filter((e) => e.label === label).length, label).toBeGreaterThanOrEqual(150);
  });

  it('has no near-duplicates within the training prompts', () => {
    const pairs = findNearDuplicates(train.map((e) => e.text));
    const shown = pairs.slice(0, 5).map((p) => `${p.similarity.toFixed(2)}: ${JSON.stringify(train[p.a].text.slice(0, 70))} ~ ${JSON.stringify(train[p.b].text.slice(0, 70))}`);
    expect(shown).toEqual([]);
  });

  it('has no development prompt near a training prompt', () => {
    const index = new NearDuplicateIndex({ threshold: DEV_TRAIN_THRESHOLD });
    for (const e of train) index.add(e.text);
    const leaks = dev.flatMap((e) => index.query(e.text).slice(0, 1).map((m) => `${m.similarity.toFixed(2)}: ${JSON.stringify(e.text.slice(0, 70))} ~ ${JSON.stringify(train[m.id].text.slice(0, 70))}`));
    expect(leaks.slice(0, 5)).toEqual([]);
  });
});

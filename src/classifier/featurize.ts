/**
 * Text -> hashed feature counts. Normalisation (NFKC, lower case, digits folded to 0, whitespace runs
 * collapsed), word unigrams (and bigrams), character n-grams, and for scripts written without spaces (Chinese,
 * Japanese, Korean Hangul, Thai, Lao, Khmer, Myanmar) character unigrams and bigrams in place of words, all
 * hashed into a fixed space. Scripts with spaces (Latin, Cyrillic, Greek, Arabic, Hebrew, Devanagari, ...)
 * form words like English; their combining marks stay inside the word.
 * The hot path allocates nothing for ASCII text: it walks char codes and hashes incrementally.
 */
import { ClassifierError } from './errors.js';
import { FNV_OFFSET, FNV_PRIME } from './hash.js';

export interface FeatureSettings {
  /** Size of the hashed feature space; a power of two. */
  dim: number;
  /** Longest word n-gram: 1 for unigrams, 2 to add bigrams. */
  wordNgrams: number;
  /** Character n-gram lengths, inclusive (over the normalised text, spaces included); max 0 for none. */
  charNgramMin: number;
  charNgramMax: number;
  /**
   * Scripts without spaces: 0 reads a run of their characters as one word (a whole Chinese clause would be a
   * single, never-seen feature); 1 makes each character a feature of its own; 2 adds each pair of adjacent
   * characters (most Chinese and Japanese words are two characters long). Such characters always end a word.
   */
  spacelessNgrams: number;
  /** Map every digit to 0, so that numbers of the same shape share features. */
  foldDigits: boolean;
  /** Use 1 + ln(tf) instead of the raw count. */
  sublinearTf: boolean;
  /**
   * Exponent on the smoothed IDF. Above 1 it pushes down features most prompts share (function words, common
   * character n-grams), which otherwise dominate centroids averaged over many short prompts.
   */
  idfPower: number;
  /** Most features a model keeps (the most frequent in training); rarer ones count as never seen. */
  maxFeatures: number;
  /**
   * Budget on the text read: words come from the first `textBudget` UTF-16 code units of a prompt, word pairs
   * and character n-grams (most of a long prompt's features) only from the first `ngramBudget` of those.
   * Classification runs synchronously on the gateway's event loop, so its cost must be microseconds whatever
   * the prompt's length (a 100 KB prompt must not take milliseconds), and scoring costs per distinct feature;
   * the start of a prompt carries its topic. Stored in the model, so training and prediction read the same text.
   */
  textBudget: number;
  ngramBudget: number;
}

export const DEFAULT_FEATURES: Readonly<FeatureSettings> = Object.freeze({
  dim: 1 << 18,
  wordNgrams: 2,
  charNgramMin: 4,
  charNgramMax: 4,
  spacelessNgrams: 2,
  foldDigits: true,
  sublinearTf: true,
  // The linear model too: on the development set (13,538 training prompts) idf^1 scored 93.9%, ^2 95.1%,
  // ^2.5 95.3%, ^3 95.4%.
  idfPower: 2.5,
  maxFeatures: 1 << 16,
  // Measured (benchmarks/classifier-speed.ts, 1 KB prompt, k = 16): whole text 46 us; 768/320 17 us; 768/384 21 us.
  // Held-out law questions (long fact patterns) need words from ~768 characters; 5-fold CV on data/corpus went
  // from 93.21% to 92.91%. Word pairs kept to the n-gram budget scored higher CV than pairs over all 768.
  textBudget: 768,
  ngramBudget: 320,
});

/**
 * Overrides for unsupervised clustering. A sharp IDF serves supervised centroids (each averages many prompts
 * of one label, and shared words must not dominate), but makes short prompts nearly orthogonal to each other,
 * leaving k-means little structure to find: on the project corpus, label purity at k = 6 and 12 was highest
 * near 1.25.
 */
export const UNSUPERVISED_FEATURES: Readonly<Partial<FeatureSettings>> = Object.freeze({ idfPower: 1.25 });

const MAX_CHAR_NGRAM = 5;
/** Largest textBudget: bounds the scratch buffers and the per-prompt cost. */
const MAX_TEXT_BUDGET = 1 << 16;
const CHAR_SEED = 0x2545f491;
const SPACELESS_SEED = 0x4f1bbcdd;
const BIGRAM_SEED = 0x68e31da4;
const GOLDEN = 0x9e3779b1;

/**
 * Character classes: 0 punctuation/symbol, 1 space, 2 word character (letter, digit, underscore, and any
 * other letter or mark of a script with spaces), 3 a character of a script written without spaces.
 */
const SPACELESS = 3;
const ASCII_CLASS = new Uint8Array(128);
/** ASCII lower-casing table. */
const ASCII_LOWER = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const lower = c >= 65 && c <= 90 ? c + 32 : c;
  ASCII_LOWER[c] = lower;
  if (c === 32 || (c >= 9 && c <= 13)) ASCII_CLASS[c] = 1;
  else if ((lower >= 97 && lower <= 122) || (c >= 48 && c <= 57) || c === 95) ASCII_CLASS[c] = 2;
}

/** Unicode ranges of scripts written without spaces between words (class 3). */
const SPACELESS_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x0e00, 0x0eff], // Thai, Lao
  [0x1000, 0x109f], // Myanmar
  [0x1780, 0x17ff], // Khmer
  [0x3040, 0x30ff], // Hiragana, Katakana (with the prolonged sound mark)
  [0x31f0, 0x31ff], // Katakana phonetic extensions
  [0x3400, 0x4dbf], // CJK Unified Ideographs Extension A
  [0x4e00, 0x9fff], // CJK Unified Ideographs
  [0xac00, 0xd7af], // Hangul syllables
  [0xf900, 0xfaff], // CJK compatibility ideographs
];

/**
 * Class of a non-ASCII code: Unicode spaces 1; general and CJK punctuation, fullwidth punctuation and
 * surrogates 0; a character of a spaceless script 3 (the iteration mark 々 too); else a word character 2.
 */
function wideClass(c: number): number {
  if (c === 0xa0 || c === 0x3000 || c === 0x2028 || c === 0x2029 || (c >= 0x2000 && c <= 0x200b)) return 1;
  if (c === 0x3005) return SPACELESS;
  if ((c >= 0x2000 && c <= 0x206f) || (c >= 0x3000 && c <= 0x303f) || (c >= 0xff01 && c <= 0xff0f) || (c >= 0xd800 && c <= 0xdfff)) return 0;
  for (const [lo, hi] of SPACELESS_RANGES) if (c >= lo && c <= hi) return SPACELESS;
  return 2;
}

/**
 * Per code unit, filled on first sight: 0 not yet seen; 1 stable under NFKC (its lower case and class are
 * in WIDE_LOWER / WIDE_CLASS); 2 the text needs a full NFKC pass (compatibility forms, combining marks,
 * Hangul jamo, surrogates, lower case longer than one unit). Most non-ASCII text (curly quotes, accented
 * letters, CJK) then needs no normalisation call and no allocation.
 */
const WIDE_STATE = new Uint8Array(65536);
const WIDE_LOWER = new Uint16Array(65536);
const WIDE_CLASS = new Uint8Array(65536);
const COMBINING = /\p{M}/u;

function learnWide(c: number): number {
  const ch = String.fromCharCode(c);
  const lower = ch.toLowerCase();
  const stable =
    ch.normalize('NFKC') === ch && lower.length === 1 && !COMBINING.test(ch) && !(c >= 0x1100 && c <= 0x11ff) && !(c >= 0xd800 && c <= 0xdfff);
  WIDE_LOWER[c] = stable ? lower.charCodeAt(0) : c;
  WIDE_CLASS[c] = wideClass(c);
  WIDE_STATE[c] = stable ? 1 : 2;
  return WIDE_STATE[c];
}

export function validateFeatureSettings(s: FeatureSettings): FeatureSettings {
  const bad = (field: string, why: string) => new ClassifierError('invalid_option', `feature setting '${field}' ${why}`);
  if (!Number.isInteger(s.dim) || s.dim < 1 << 8 || s.dim > 1 << 24 || (s.dim & (s.dim - 1)) !== 0) {
    throw bad('dim', `must be a power of two between 256 and 16777216, got ${s.dim}`);
  }
  if (!Number.isInteger(s.wordNgrams) || s.wordNgrams < 0 || s.wordNgrams > 2) throw bad('wordNgrams', `must be 0, 1 or 2, got ${s.wordNgrams}`);
  if (!Number.isInteger(s.spacelessNgrams) || s.spacelessNgrams < 0 || s.spacelessNgrams > 2) {
    throw bad('spacelessNgrams', `must be 0, 1 or 2, got ${s.spacelessNgrams}`);
  }
  if (!Number.isInteger(s.charNgramMax) || s.charNgramMax < 0 || s.charNgramMax > MAX_CHAR_NGRAM) {
    throw bad('charNgramMax', `must be an integer from 0 to ${MAX_CHAR_NGRAM}, got ${s.charNgramMax}`);
  }
  if (s.charNgramMax > 0 && (!Number.isInteger(s.charNgramMin) || s.charNgramMin < 1 || s.charNgramMin > s.charNgramMax)) {
    throw bad('charNgramMin', `must be an integer from 1 to charNgramMax (${s.charNgramMax}), got ${s.charNgramMin}`);
  }
  if (s.wordNgrams === 0 && s.charNgramMax === 0) throw bad('wordNgrams', 'and charNgramMax cannot both be 0: no features');
  if (typeof s.foldDigits !== 'boolean') throw bad('foldDigits', 'must be a boolean');
  if (typeof s.sublinearTf !== 'boolean') throw bad('sublinearTf', 'must be a boolean');
  // A model packs row + 1 into the 24 bits above the count in each table slot.
  if (!Number.isInteger(s.maxFeatures) || s.maxFeatures < 1 || s.maxFeatures >= 1 << 24) {
    throw bad('maxFeatures', `must be an integer from 1 to ${(1 << 24) - 1}, got ${s.maxFeatures}`);
  }
  if (typeof s.idfPower !== 'number' || !(s.idfPower > 0 && s.idfPower <= 8)) throw bad('idfPower', `must be a number in (0, 8], got ${s.idfPower}`);
  if (!Number.isInteger(s.textBudget) || s.textBudget < 1 || s.textBudget > MAX_TEXT_BUDGET) {
    throw bad('textBudget', `must be an integer from 1 to ${MAX_TEXT_BUDGET}, got ${s.textBudget}`);
  }
  if (!Number.isInteger(s.ngramBudget) || s.ngramBudget < 1 || s.ngramBudget > s.textBudget) {
    throw bad('ngramBudget', `must be an integer from 1 to textBudget (${s.textBudget}), got ${s.ngramBudget}`);
  }
  return s;
}

/** A feature of a text with a readable name (see Featurizer.terms). */
export interface FeatureTerm {
  index: number;
  kind: 'word' | 'word pair' | 'character' | 'character pair' | 'character n-gram';
  term: string;
}

/** Bucket of a 32-bit hash: multiplicative hashing keeps the well-mixed high bits. */
function bucket(h: number, shift: number): number {
  return Math.imul(h ^ (h >>> 15), GOLDEN) >>> shift;
}

/** Low bits of a `table` slot: the feature's count in the text being scanned (saturates at COUNT_MAX). */
export const COUNT_BITS = 8;
export const COUNT_MAX = (1 << COUNT_BITS) - 1;

/**
 * Counts the hashed features of one text into a reusable scratch space. After `scan`, `touched[0..n)` holds
 * the distinct feature indices and the low COUNT_BITS of `table[i]` their counts; `clear` zeroes them again.
 * The high bits of each slot are the owner's (a model keeps each feature's centroid row there, so one memory
 * access per feature serves both counting and lookup). Not re-entrant: one scan at a time.
 */
export class Featurizer {
  readonly settings: Readonly<FeatureSettings>;
  readonly table: Int32Array;
  private touchedBuf = new Int32Array(4096);
  /** Scratch: the text's UTF-16 code units, and the same memory as a Buffer to write them with. */
  private units = new Uint16Array(0);
  private unitBytes = Buffer.alloc(0);
  /** Per ASCII code: its class << 16 | its lower-cased (and digit-folded) code. */
  private readonly asciiInfo = new Int32Array(128);
  private readonly shift: number;

  constructor(settings: FeatureSettings = DEFAULT_FEATURES) {
    this.settings = Object.freeze({ ...validateFeatureSettings(settings) });
    this.table = new Int32Array(settings.dim);
    this.shift = 32 - Math.log2(settings.dim);
    for (let c = 0; c < 128; c++) {
      const lower = settings.foldDigits && c >= 49 && c <= 57 ? 48 : ASCII_LOWER[c];
      this.asciiInfo[c] = (ASCII_CLASS[c] << 16) | lower;
    }
    this.growUnits(1024);
  }

  get touched(): Int32Array {
    return this.touchedBuf;
  }

  /** Feature weight for a count, before IDF. */
  tfWeight(tf: number): number {
    return tf <= 1 ? tf : this.settings.sublinearTf ? 1 + Math.log(tf) : tf;
  }

  /**
   * Hashes `text` (its first textBudget code units); returns the number of distinct features now listed in
   * `touched`. Text needing NFKC is cut to the budget before normalising, so no prompt costs more than that.
   */
  scan(text: string): number {
    const n = this.scanText(text, false);
    return n >= 0 ? n : this.scanText(this.budgeted(text).normalize('NFKC').toLowerCase(), true);
  }

  /** The part of `text` the budget lets the featurizer read. */
  private budgeted(text: string): string {
    return text.length > this.settings.textBudget ? text.slice(0, this.settings.textBudget) : text;
  }

  /**
   * Three tight passes, each with few live values (as fast as one fused loop, and simpler to read): words
   * over the text, which also leaves the normalised characters in `units`; character n-grams over those;
   * then the dedupe. The first two write every feature occurrence's bucket to `touched`, the third counts them
   * in place. Unless `normalized`, gives up (-1, nothing counted) at the first code unit that needs NFKC.
   */
  private scanText(text: string, normalized: boolean): number {
    const { wordNgrams, charNgramMin: cMin, charNgramMax: cMax, textBudget, ngramBudget } = this.settings;
    const len = Math.min(text.length, textBudget);
    const ngramLen = Math.min(len, ngramBudget);
    const perChar = (cMax > 0 ? cMax - cMin + 1 : 0) + Math.max(wordNgrams, this.settings.spacelessNgrams);
    if (this.touchedBuf.length < (len + 2) * perChar) this.touchedBuf = new Int32Array((len + 2) * perChar * 2);
    if (this.units.length < len + 1) this.growUnits(len + 1);
    // The first `len` code units, copied natively into a typed array (cheaper than charCodeAt per unit), plus
    // the virtual space that ends the text read.
    this.unitBytes.write(text, 0, len * 2, 'utf16le');
    this.units[len] = 32;
    let e = this.wordPass(len, normalized, ngramLen);
    if (e < 0) return -1;
    if (cMax > 0) {
      // The character n-grams' own end: a virtual space after their budget (the word pass is done with it).
      this.units[ngramLen] = 32;
      e = this.charPass(ngramLen, e);
    }
    return this.dedupe(e);
  }

  /**
   * Lower-cases and classifies each unit, rewriting it in place as its normalised character (any whitespace
   * as a space), and emits the word unigrams (and bigrams ending by `pairEnd`) when words are on, and the
   * unigrams (and adjacent pairs ending before `pairEnd`) of spaceless-script characters. Returns the
   * emitted count.
   */
  private wordPass(len: number, normalized: boolean, pairEnd: number): number {
    const prime = FNV_PRIME;
    const offset = FNV_OFFSET;
    const mix = GOLDEN;
    const bigramSeed = BIGRAM_SEED;
    const { units, asciiInfo: ascii, touchedBuf: touched, shift } = this;
    const { wordNgrams, foldDigits, spacelessNgrams } = this.settings;
    const words = wordNgrams > 0;
    const bigrams = wordNgrams > 1;
    const spacelessSeed = SPACELESS_SEED;
    // With spacelessNgrams 0 such characters are word characters, as before the setting existed.
    const spacelessClass = spacelessNgrams > 0 ? SPACELESS : 2;
    const spacelessPairs = spacelessNgrams > 1;
    let e = 0;
    // The previous unit's hash, when it was a spaceless character.
    let prevSpaceless = 0;
    let afterSpaceless = false;
    // FNV-1a over the current word; the previous word's hash for bigrams.
    let word = 0;
    let inWord = false;
    let prevWord = 0;
    let havePrev = false;
    for (let i = 0; i <= len; i++) {
      let c = units[i];
      let cls: number;
      if (c < 128) {
        const info = ascii[c];
        cls = info >>> 16;
        c = info & 0xffff;
      } else {
        const state = WIDE_STATE[c] || learnWide(c);
        if (state === 2 && !normalized) return -1;
        cls = WIDE_CLASS[c];
        if (cls === SPACELESS) cls = spacelessClass;
        c = WIDE_LOWER[c];
        if (foldDigits && c >= 49 && c <= 57) c = 48;
      }
      units[i] = cls === 1 ? 32 : c;
      if (cls === 2) {
        word = Math.imul((inWord ? word : offset) ^ c, prime);
        inWord = true;
        afterSpaceless = false;
        continue;
      }
      if (inWord) {
        inWord = false;
        if (words) {
          touched[e++] = Math.imul(word ^ (word >>> 15), mix) >>> shift;
          if (bigrams && havePrev && i <= pairEnd) {
            const pair = Math.imul(prevWord, bigramSeed) ^ word;
            touched[e++] = Math.imul(pair ^ (pair >>> 15), mix) >>> shift;
          }
        }
        prevWord = word;
        havePrev = true;
      }
      if (cls === SPACELESS) {
        const h = Math.imul(spacelessSeed ^ c, prime);
        touched[e++] = Math.imul(h ^ (h >>> 15), mix) >>> shift;
        if (spacelessPairs && afterSpaceless && i < pairEnd) {
          const pair = Math.imul(prevSpaceless ^ c, prime);
          touched[e++] = Math.imul(pair ^ (pair >>> 15), mix) >>> shift;
        }
        prevSpaceless = h;
        afterSpaceless = true;
        // Word pairs do not reach across a spaceless run.
        havePrev = false;
      } else {
        afterSpaceless = false;
      }
    }
    return e;
  }

  /**
   * Character n-grams over the normalised units with whitespace runs collapsed to one space and a virtual
   * space at each end; p1..p4 are the previous characters of that stream, `filled` how many it holds (up to
   * 5). Appends to `touched` from `e`; returns the new count.
   */
  private charPass(len: number, start: number): number {
    const prime = FNV_PRIME;
    const mix = GOLDEN;
    const charSeed = CHAR_SEED;
    const { units, touchedBuf: touched, shift } = this;
    const { charNgramMin: cMin, charNgramMax: cMax, spacelessNgrams } = this.settings;
    // With spaceless-script characters and pairs on, n-grams ending in such a character are left out: the
    // characters and pairs already read that text, and dense CJK would double the features to score.
    const skipSpaceless = spacelessNgrams > 0;
    const e1 = cMin <= 1;
    const e2 = cMin <= 2 && cMax >= 2;
    const e3 = cMin <= 3 && cMax >= 3;
    const e4 = cMin <= 4 && cMax >= 4;
    const e5 = cMax >= 5;
    let e = start;
    let p1 = 32;
    let p2 = 0;
    let p3 = 0;
    let p4 = 0;
    let filled = 1;
    for (let i = 0; i <= len; i++) {
      const c = units[i];
      if (c === 32 && p1 === 32) continue;
      filled += (filled - 5) >>> 31;
      // 1 to emit the n-grams ending here, 0 to leave them out (a spaceless-script character).
      const keep = skipSpaceless && c >= 128 && WIDE_CLASS[c] === SPACELESS ? 0 : 1;
      // The n-grams ending here, hashed from the last character backwards: one multiply per length. Each is
      // written; the count advances only when the stream holds enough characters (branch-free).
      let h = Math.imul(charSeed ^ c, prime);
      if (e1) {
        touched[e] = Math.imul(h ^ (h >>> 15), mix) >>> shift;
        e += keep;
      }
      h = Math.imul(h ^ p1, prime);
      if (e2) {
        touched[e] = Math.imul(h ^ (h >>> 15), mix) >>> shift;
        e += keep;
      }
      h = Math.imul(h ^ p2, prime);
      if (e3) {
        touched[e] = Math.imul(h ^ (h >>> 15), mix) >>> shift;
        e += ((2 - filled) >>> 31) & keep;
      }
      h = Math.imul(h ^ p3, prime);
      if (e4) {
        touched[e] = Math.imul(h ^ (h >>> 15), mix) >>> shift;
        e += ((3 - filled) >>> 31) & keep;
      }
      if (e5) {
        h = Math.imul(h ^ p4, prime);
        touched[e] = Math.imul(h ^ (h >>> 15), mix) >>> shift;
        e += ((4 - filled) >>> 31) & keep;
      }
      p4 = p3;
      p3 = p2;
      p2 = p1;
      p1 = c;
    }
    return e;
  }

  /**
   * Counts the `e` emitted buckets in the table; a first sighting keeps its place in `touched` (n <= t, so
   * the entries still to read are never overwritten). Branch-free: whether a bucket is new is a coin toss for
   * the CPU's predictor, so the write always happens and the position advances by a 0/1 flag. The count
   * saturates at COUNT_MAX. Returns the number of distinct buckets.
   */
  private dedupe(e: number): number {
    const countMax = COUNT_MAX;
    const countBits = COUNT_BITS;
    const { table, touchedBuf: touched } = this;
    let n = 0;
    for (let t = 0; t < e; t++) {
      const idx = touched[t];
      const v = table[idx];
      const count = v & countMax;
      touched[n] = idx;
      table[idx] = v + (((count + 1) >>> countBits) ^ 1);
      n += (count - 1) >>> 31;
    }
    return n;
  }

  private growUnits(length: number): void {
    const buffer = new ArrayBuffer(length * 4);
    this.units = new Uint16Array(buffer);
    this.unitBytes = Buffer.from(buffer);
  }

  /** Count of feature `idx` in the last scan. */
  count(idx: number): number {
    return this.table[idx] & COUNT_MAX;
  }

  /** Zeroes the counts left by the last scan (the owner's high bits stay). */
  clear(n: number): void {
    const touched = this.touchedBuf;
    for (let t = 0; t < n; t++) this.table[touched[t]] &= ~COUNT_MAX;
  }

  /**
   * Every feature of a text with a readable name, in the order scan emits them (repeats included): words,
   * word pairs ("a b"), spaceless-script characters and pairs, and character n-grams (spaces shown as "_").
   * For explanations and top terms only: it allocates strings, and the prediction path never calls it. It
   * reads the text exactly as scan does, so every index it names is one scan counts.
   */
  terms(input: string): FeatureTerm[] {
    const { wordNgrams, charNgramMin: cMin, charNgramMax: cMax, textBudget, ngramBudget, spacelessNgrams, foldDigits } = this.settings;
    const stable = [...input.slice(0, textBudget)].every((ch) => {
      const c = ch.charCodeAt(0);
      return ch.length === 1 && (c < 128 || (WIDE_STATE[c] || learnWide(c)) === 1);
    });
    const text = stable ? this.budgeted(input) : this.budgeted(input).normalize('NFKC').toLowerCase();
    const len = Math.min(text.length, textBudget);
    const pairEnd = Math.min(len, ngramBudget);
    const out: FeatureTerm[] = [];
    const emit = (h: number, kind: FeatureTerm['kind'], term: string) => out.push({ index: bucket(h, this.shift), kind, term });
    const norm: string[] = [];
    let word = 0;
    let wordText = '';
    let inWord = false;
    let prev: { hash: number; text: string } | undefined;
    let prevSpaceless: { hash: number; text: string } | undefined;
    for (let i = 0; i <= len; i++) {
      let c = i < len ? text.charCodeAt(i) : 32;
      let cls: number;
      if (c < 128) {
        cls = ASCII_CLASS[c];
        c = ASCII_LOWER[c];
      } else {
        learnWide(c);
        cls = WIDE_CLASS[c] === SPACELESS && spacelessNgrams === 0 ? 2 : WIDE_CLASS[c];
        c = WIDE_LOWER[c];
      }
      if (foldDigits && c >= 49 && c <= 57) c = 48;
      const ch = String.fromCharCode(c);
      norm.push(cls === 1 ? ' ' : ch);
      if (cls === 2) {
        word = Math.imul((inWord ? word : FNV_OFFSET) ^ c, FNV_PRIME);
        wordText = inWord ? wordText + ch : ch;
        inWord = true;
        prevSpaceless = undefined;
        continue;
      }
      if (inWord) {
        inWord = false;
        if (wordNgrams > 0) {
          emit(word, 'word', wordText);
          if (wordNgrams > 1 && prev && i <= pairEnd) emit(Math.imul(prev.hash, BIGRAM_SEED) ^ word, 'word pair', `${prev.text} ${wordText}`);
        }
        prev = { hash: word, text: wordText };
      }
      if (cls === SPACELESS) {
        const h = Math.imul(SPACELESS_SEED ^ c, FNV_PRIME);
        emit(h, 'character', ch);
        if (spacelessNgrams > 1 && prevSpaceless && i < pairEnd) emit(Math.imul(prevSpaceless.hash ^ c, FNV_PRIME), 'character pair', prevSpaceless.text + ch);
        prevSpaceless = { hash: h, text: ch };
        prev = undefined;
      } else {
        prevSpaceless = undefined;
      }
    }
    if (cMax > 0) {
      // The character stream: whitespace runs collapsed, a virtual space at each end.
      const stream = [' '];
      for (let i = 0; i < pairEnd; i++) if (norm[i] !== ' ' || stream[stream.length - 1] !== ' ') stream.push(norm[i]);
      if (stream[stream.length - 1] !== ' ') stream.push(' ');
      for (let end = 1; end < stream.length; end++) {
        const code = stream[end].charCodeAt(0);
        if (spacelessNgrams > 0 && code >= 128 && WIDE_CLASS[code] === SPACELESS) continue;
        let h = Math.imul(CHAR_SEED ^ code, FNV_PRIME);
        for (let n = 1; n <= cMax && n <= end + 1; n++) {
          if (n > 1) h = Math.imul(h ^ stream[end - n + 1].charCodeAt(0), FNV_PRIME);
          if (n >= cMin) emit(h, 'character n-gram', stream.slice(end - n + 1, end + 1).join('').replace(/ /g, '_'));
        }
      }
    }
    return out;
  }
}

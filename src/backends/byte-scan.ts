/**
 * Finds fixed ASCII keys in a byte stream that arrives in chunks, without copying or decoding the
 * chunks: Buffer.indexOf does the search and a key split across two chunks is still found.
 */

export class KeyScanner {
  private readonly key: Buffer;
  /** How many leading bytes of the key ended the previous chunk. */
  private carry = 0;

  /** `primed`: the stream is taken to begin just after the key's first byte (e.g. a key "\nx" matches "x" at the very start). */
  constructor(key: string, primed = false) {
    this.key = Buffer.from(key, 'latin1');
    if (primed) this.carry = 1;
  }

  /**
   * Offsets just past each occurrence of the key that ends in `chunk` (an occurrence that began in
   * an earlier chunk gives the offset where its remainder ends).
   */
  scan(chunk: Buffer, onMatch: (end: number) => void): void {
    const key = this.key;
    let from = 0;
    if (this.carry > 0) {
      const rest = key.length - this.carry;
      const n = Math.min(rest, chunk.length);
      if (chunk.compare(key, this.carry, this.carry + n, 0, n) === 0) {
        if (n === rest) {
          onMatch(rest);
          from = rest;
        } else {
          this.carry += n;
          return;
        }
      }
      this.carry = 0;
    }
    for (;;) {
      const at = chunk.indexOf(key, from);
      if (at === -1) break;
      from = at + key.length;
      onMatch(from);
    }
    this.carry = this.partialAtEnd(chunk, from);
  }

  /**
   * The offset just past the first occurrence of the key that ends in `chunk`, or -1; occurrences
   * after it in the same chunk are skipped (for keys wanted once). No closure, for the per-chunk path.
   */
  first(chunk: Buffer): number {
    const key = this.key;
    if (this.carry > 0) {
      const rest = key.length - this.carry;
      const n = Math.min(rest, chunk.length);
      if (chunk.compare(key, this.carry, this.carry + n, 0, n) === 0) {
        if (n === rest) {
          this.carry = this.partialAtEnd(chunk, rest);
          return rest;
        }
        this.carry += n;
        return -1;
      }
      this.carry = 0;
    }
    const at = chunk.indexOf(key);
    const end = at === -1 ? -1 : at + key.length;
    this.carry = this.partialAtEnd(chunk, at === -1 ? 0 : end);
    return end;
  }

  /** Length of the longest proper prefix of the key that ends the chunk (after `from`). */
  private partialAtEnd(chunk: Buffer, from: number): number {
    const key = this.key;
    const len = chunk.length;
    // At most key.length - 1 tail bytes to try, longest first: a plain loop beats lastIndexOf here.
    for (let at = Math.max(from, len - key.length + 1); at < len; at++) {
      if (chunk[at] !== key[0]) continue;
      let i = 1;
      while (at + i < len && chunk[at + i] === key[i]) i++;
      if (at + i === len) return i;
    }
    return 0;
  }
}

/** Reads the integer after a JSON key such as `"completion_tokens":`, across chunks; the last value wins. */
export class IntFieldScanner {
  private readonly scanner: KeyScanner;
  /** A key was matched and its number may continue in the next chunk. */
  private inNumber = false;
  private sawDigit = false;
  private acc = 0;
  value: number | undefined;

  constructor(key: string) {
    this.scanner = new KeyScanner(`"${key}":`);
  }

  push(chunk: Buffer): void {
    if (this.inNumber) {
      this.consume(chunk, 0);
      if (this.inNumber) return;
    }
    this.scanner.scan(chunk, (end) => {
      this.inNumber = true;
      this.sawDigit = false;
      this.acc = 0;
      this.consume(chunk, end);
    });
  }

  private consume(chunk: Buffer, at: number): void {
    let i = at;
    if (!this.sawDigit) while (i < chunk.length && chunk[i] === 0x20) i++;
    while (i < chunk.length && chunk[i] >= 0x30 && chunk[i] <= 0x39) {
      this.acc = this.acc * 10 + (chunk[i] - 0x30);
      this.sawDigit = true;
      i++;
    }
    if (i === chunk.length) return;
    this.inNumber = false;
    if (this.sawDigit) this.value = this.acc;
  }
}

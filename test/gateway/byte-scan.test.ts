import { describe, expect, it } from 'vitest';
import { IntFieldScanner, KeyScanner } from '../../src/backends/index.js';

const STREAM = Buffer.from(
  'data: {"choices":[{"delta":{"content":"\\"completion_tokens\\": 99"}}]}\n\n' +
  'data: {"choices":[],"usage":{"prompt_tokens":16,"completion_tokens":1234,"total_tokens":1250}}\n\n' +
  'data: [DONE]\n\n',
);

describe('byte scanners', () => {
  it('find keys and read numbers however the stream is cut into chunks', () => {
    for (let a = 1; a < STREAM.length; a++) {
      for (let b = a; b < STREAM.length; b += 7) {
        const completion = new IntFieldScanner('completion_tokens');
        const prompt = new IntFieldScanner('prompt_tokens');
        const done = new KeyScanner('\ndata: [DONE]');
        let seen = 0;
        for (const part of [STREAM.subarray(0, a), STREAM.subarray(a, b), STREAM.subarray(b)]) {
          completion.push(part);
          prompt.push(part);
          done.scan(part, () => seen++);
        }
        expect([completion.value, prompt.value, seen]).toEqual([1234, 16, 1]);
      }
    }
  });

  it('ignores keys escaped inside JSON strings and a [DONE] that is not an event', () => {
    const scanner = new IntFieldScanner('completion_tokens');
    scanner.push(Buffer.from('{"text":"\\"completion_tokens\\": 5"}'));
    expect(scanner.value).toBeUndefined();
    let seen = 0;
    new KeyScanner('\ndata: [DONE]').scan(Buffer.from('data: {"text":"data: [DONE]"}\n\n'), () => seen++);
    expect(seen).toBe(0);
  });
});

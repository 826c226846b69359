import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readExamples } from '../../src/classifier/index.js';

const dir = mkdtempSync(join(tmpdir(), 'classifier-examples-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

describe('readExamples', () => {
  it('reads JSONL with default and custom fields, skipping blank lines', () => {
    const path = file('a.jsonl', '{"prompt":"one","label":"x"}\n\n{"prompt":"two"}\r\n{"q":"three","topic":7}\n');
    expect(() => readExamples(path)).toThrow(`${path}:4: missing text field 'prompt'`);
    const p2 = file('b.jsonl', '{"prompt":"one","label":"x"}\n\n{"prompt":"two"}\r\n');
    expect(readExamples(p2)).toEqual([{ text: 'one', label: 'x' }, { text: 'two' }]);
    expect(readExamples(file('c.jsonl', '{"q":"three","topic":7}\n'), { textField: 'q', labelField: 'topic' })).toEqual([{ text: 'three', label: '7' }]);
  });

  it('reads CSV with a header, quotes, embedded commas and newlines, and a BOM', () => {
    const path = file('d.csv', '\ufeffid,prompt,label\n1,"Hello, world",general\n2,"multi\nline ""quoted""",code\n3,plain,math\n');
    expect(readExamples(path)).toEqual([
      { text: 'Hello, world', label: 'general' },
      { text: 'multi\nline "quoted"', label: 'code' },
      { text: 'plain', label: 'math' },
    ]);
  });

  it('names the file and line of each problem', () => {
    expect(() => readExamples(file('e.jsonl', '{"prompt":"ok"}\n{"prompt": oops}\n'))).toThrow(/e\.jsonl:2: malformed JSON line/);
    expect(() => readExamples(file('f.jsonl', '{"prompt":"ok"}\n[1,2]\n'))).toThrow(/f\.jsonl:2: expected a JSON object/);
    expect(() => readExamples(file('g.jsonl', '{"prompt":"ok"}\n{"prompt":"  "}\n'))).toThrow(/g\.jsonl:2: empty text/);
    expect(() => readExamples(file('h.jsonl', '{"prompt":"ok"}\n'), { requireLabel: true })).toThrow(/h\.jsonl:1: missing label field 'label'/);
    expect(() => readExamples(file('i.csv', 'prompt,label\n"a",x\n"b,y\n'))).toThrow(/i\.csv:3: malformed CSV: quoted field is never closed/);
    expect(() => readExamples(file('j.csv', 'prompt,label\na,x\nb,y,z\n'))).toThrow(/j\.csv:3: expected 2 fields/);
    expect(() => readExamples(file('k.csv', 'text,label\na,x\n'))).toThrow(/k\.csv:2: missing text field 'prompt'/);
    expect(() => readExamples(file('l.jsonl', '\n\n'))).toThrow(/no examples/);
    expect(() => readExamples(join(dir, 'absent.jsonl'))).toThrow(/cannot read data file .*absent\.jsonl: no such file/);
  });
});

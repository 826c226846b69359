import { describe, expect, it } from 'vitest';
import { alignColumns } from '../../src/common/text-table.js';

describe('alignColumns', () => {
  it('pads each column to its widest cell, two spaces apart, and leaves the last column unpadded', () => {
    expect(alignColumns([['a', 'long cell', 'x'], ['longer', 'b', 'last column']])).toEqual([
      'a       long cell  x',
      'longer  b          last column',
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import { csvCell } from './cell';

describe('csvCell', () => {
  it('prefixes what a spreadsheet would run as a formula', () => {
    for (const text of ['=1+1', '+SUM(A1)', '-2', '@cmd', '\tx', '\rx'])
      expect(csvCell(text)).toBe(`'${text}`);
  });

  it('leaves other text and numbers alone, and empties null and undefined', () => {
    expect(['a=b', ' =x', 'espresso', 42, -1, null, undefined].map(csvCell)).toEqual([
      'a=b',
      ' =x',
      'espresso',
      '42',
      "'-1",
      '',
      '',
    ]);
  });
});

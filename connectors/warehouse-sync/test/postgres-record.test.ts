import { describe, expect, it } from 'vitest';
import { recordReader, recordValues } from '../src/sources/postgres-record.js';

describe('a row read as a PostgreSQL record literal', () => {
  it('gives each value its text: NULL as null, an empty text quoted, quotes and backslashes doubled', () => {
    expect(recordValues('(1,,"a b","",x,"q""q","(p)")', 7)).toEqual([
      '1',
      null,
      'a b',
      '',
      'x',
      'q"q',
      '(p)',
    ]);
    expect(recordValues('("b\\\\s","q""x\\\\",z,"""")', 4)).toEqual(['b\\s', 'q"x\\', 'z', '"']);
    expect(recordValues('()', 1)).toEqual([null]);
    expect(recordValues('("")', 1)).toEqual(['']);
    expect(recordValues('(,)', 2)).toEqual([null, null]);
    expect(recordValues('("a,b","line\nbreak",ü✓)', 3)).toEqual(['a,b', 'line\nbreak', 'ü✓']);
  });

  it('refuses a text that is not a record of that many values, showing it', () => {
    expect(() => recordValues('(1,2)', 3)).toThrow(/not a record of 3 values: \(1,2\)/);
    expect(() => recordValues('(1,2,3)', 2)).toThrow(/not a record of 2 values/);
    expect(() => recordValues('1,2', 2)).toThrow(/not a record of 2 values/);
    expect(() => recordValues('("open,2)', 2)).toThrow(/not a record of 2 values/);
    expect(() => recordValues('("open\\\\,2)', 2)).toThrow(/not a record of 2 values/);
  });

  it('reads the values as their column types, the position texts after them as text', () => {
    // int8, timestamptz, jsonb, text[]; then the cursor and key texts.
    const read = recordReader([20, 1184, 3802, 1009], 2);
    expect(
      read(
        '(9007199254740993,"2025-11-22 08:00:00.5+00","{""a"": 1}","{x,""y z""}","2025-11-22 08:00:00.5+00",7)',
      ),
    ).toEqual([
      9007199254740993n,
      new Date('2025-11-22T08:00:00.500Z'),
      { a: 1 },
      ['x', 'y z'],
      '2025-11-22 08:00:00.5+00',
      '7',
    ]);
    expect(read('(,,,,,7)')).toEqual([null, null, null, null, null, '7']);
  });
});

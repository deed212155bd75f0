import { describe, expect, it } from 'vitest';
import { rowBuilder } from '../src/sources/row-builder.js';

/** What building the row one property at a time gives. */
function byLoop(names: readonly string[], values: readonly unknown[]): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (let n = 0; n < names.length; n++)
    Object.defineProperty(row, names[n] as string, {
      value: values[n],
      writable: true,
      enumerable: true,
      configurable: true,
    });
  return row;
}

describe('rows built from a driver’s value arrays', () => {
  it('hold each column under its name, in order, with the values as they are', () => {
    const at = new Date(0);
    const build = rowBuilder(['id', 'event_name', 'at', 'doc']);
    const row = build([1n, 'Played', at, { a: [1] }, 'cursor text', 'key text']);
    expect(row).toStrictEqual({ id: 1n, event_name: 'Played', at, doc: { a: [1] } });
    expect(Object.keys(row)).toEqual(['id', 'event_name', 'at', 'doc']);
    expect(row.at).toBe(at);
  });

  it('takes any column name literally, those JavaScript or JSON would read specially included', () => {
    const names = [
      '__proto__',
      'constructor',
      'a"b',
      "it's",
      'back\\slash',
      'new\nline',
      '\u2028\u2029',
      '${x}',
      '}; throw new Error("no"); ({',
      'Größe 😀',
      '10',
      '',
    ];
    const values = names.map((_, i) => ({ column: i }));
    const row = rowBuilder(names)(values);
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(Object.keys(row)).toEqual(Object.keys(byLoop(names, values)));
    for (const [i, name] of names.entries())
      expect(Object.getOwnPropertyDescriptor(row, name)?.value).toBe(values[i]);
  });

  it('keeps the last value of a name the query repeats, as assigning in order would', () => {
    expect(rowBuilder(['id', 'name', 'id'])([1, 'x', 2])).toStrictEqual({ id: 2, name: 'x' });
  });
});

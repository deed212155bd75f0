import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StringInterner, tagOf, type Kind } from './string-interner.js';

/** Two different strings of the same length whose 32-bit tags are equal (a birthday search). */
function tagCollision(kind: Kind, prefix: string): [string, string] {
  const seen = new Map<number, string>();
  for (let i = 0; ; i++) {
    const key = `${prefix}${1_000_000 + i}`;
    const tag = tagOf(key, kind);
    const other = seen.get(tag);
    if (other !== undefined) return [other, key];
    seen.set(tag, key);
  }
}

describe('StringInterner', () => {
  it('answers like a Map from (kind, text) to insertion order, through many growths', () => {
    const op = fc.record({
      intern: fc.boolean(),
      kind: fc.constantFrom<Kind>(0, 1),
      key: fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('', 'a', 'b', '\uD800', '😀')),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const interner = new StringInterner(4);
        const reference = new Map<string, number>();
        for (const { intern, kind, key } of ops) {
          const known = reference.get(`${kind}:${key}`);
          if (intern) {
            const expected = known ?? reference.size;
            expect(interner.intern(key, kind)).toBe(expected);
            reference.set(`${kind}:${key}`, expected);
          } else {
            expect(interner.find(key, kind)).toBe(known ?? -1);
          }
          expect(interner.size).toBe(reference.size);
        }
        for (const [entry, index] of reference) {
          const kind = Number(entry[0]);
          expect(interner.kind(index)).toBe(kind);
          expect(interner.key(index)).toBe(entry.slice(2));
        }
      }),
    );
  });

  it('keeps the two kinds apart: the same text gets two indexes', () => {
    const interner = new StringInterner();
    expect(interner.intern('X1', 0)).toBe(0);
    expect(interner.find('X1', 1)).toBe(-1);
    expect(interner.intern('X1', 1)).toBe(1);
    expect(interner.find('X1', 0)).toBe(0);
    expect(interner.find('X1', 1)).toBe(1);
    expect([interner.kind(0), interner.kind(1)]).toEqual([0, 1]);
  });

  // Short Latin-1 keys are kept in the slot, longer or wider ones beside the table: both ways.
  it.each([
    ['short keys', 'k'],
    ['long keys', 'a-key-longer-than-sixteen-'],
    ['keys beyond Latin-1', 'ĸ'],
  ])('tells apart different %s whose tags are equal', (_label, prefix) => {
    for (const kind of [0, 1] as const) {
      const [first, second] = tagCollision(kind, prefix);
      expect(tagOf(first, kind)).toBe(tagOf(second, kind));
      const interner = new StringInterner();
      const firstIndex = interner.intern(first, kind);
      expect(interner.find(second, kind)).toBe(-1);
      const secondIndex = interner.intern(second, kind);
      expect(secondIndex).not.toBe(firstIndex);
      expect(interner.find(first, kind)).toBe(firstIndex);
      expect(interner.find(second, kind)).toBe(secondIndex);
      expect(interner.intern(first, kind)).toBe(firstIndex);
      expect(interner.size).toBe(2);
    }
  });

  it('tells apart long keys whose lengths agree modulo 2^16', () => {
    const interner = new StringInterner();
    const short = 'x'.repeat(100);
    const long = 'x'.repeat(65_536 + 100);
    expect(interner.intern(long, 0)).toBe(0);
    expect(interner.find(short, 0)).toBe(-1);
    expect(interner.intern(short, 0)).toBe(1);
    expect(interner.find(long, 0)).toBe(0);
    expect(interner.find(`${long.slice(1)}y`, 0)).toBe(-1);
    expect(interner.key(0)).toBe(long);
    expect(interner.key(1)).toBe(short);
  });

  it('rebuilds keys exactly, lone surrogates included, and knows no index it did not give', () => {
    const interner = new StringInterner();
    const keys = ['', '\ud800x', 'x\udc00', '😀', `${'é'.repeat(5000)}\ud800`];
    keys.forEach((key, i) => expect(interner.intern(key, (i % 2) as Kind)).toBe(i));
    keys.forEach((key, i) => expect(interner.key(i)).toBe(key));
    for (const index of [-1, keys.length, 0.5, Number.NaN]) expect(interner.key(index)).toBeUndefined();
  });

  it('compares keys at the edge of fitting in the slot', () => {
    const interner = new StringInterner(4);
    const keys = [
      'x'.repeat(16),
      'x'.repeat(17),
      'x'.repeat(15),
      `${'x'.repeat(15)}é`,
      `${'x'.repeat(15)}ÿ`,
      `${'x'.repeat(15)}Ā`, // U+0100: not a byte
      `${'x'.repeat(15)}\u00ff\u0000`,
      'é',
      '\u0000',
      '',
    ];
    keys.forEach((key, i) => expect(interner.intern(key, 0)).toBe(i));
    keys.forEach((key, i) => {
      expect(interner.find(key, 0)).toBe(i);
      expect(interner.key(i)).toBe(key);
    });
    // Same bytes once the high bits of a character are dropped: must not match.
    expect(interner.find(`${'x'.repeat(15)}\u01e9`, 0)).toBe(-1); // é is U+00E9
    expect(interner.find('\u0100', 0)).toBe(-1);
    expect(interner.size).toBe(keys.length);
  });

  it('find never creates an entry', () => {
    const interner = new StringInterner(4);
    for (let i = 0; i < 1000; i++) expect(interner.find(`missing${i}`, (i % 2) as Kind)).toBe(-1);
    expect(interner.size).toBe(0);
    expect(interner.intern('first', 0)).toBe(0);
  });

  it('keeps 200,000 keys of each kind findable after growing from 4 slots', () => {
    const interner = new StringInterner(4);
    let wrong = 0; // counted rather than asserted one by one: expect() would dominate the test's time
    for (let i = 0; i < 200_000; i++) {
      if (interner.intern(`id${i}`, 0) !== 2 * i) wrong++;
      if (interner.intern(`id${i}`, 1) !== 2 * i + 1) wrong++;
    }
    for (let i = 0; i < 200_000; i++) {
      if (interner.find(`id${i}`, 0) !== 2 * i) wrong++;
      if (interner.find(`id${i}`, 1) !== 2 * i + 1) wrong++;
      if (interner.key(2 * i + 1) !== `id${i}`) wrong++;
    }
    expect(wrong).toBe(0);
    expect(interner.find('id200000', 0)).toBe(-1);
    expect(interner.size).toBe(400_000);
  });
});

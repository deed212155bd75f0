import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InsertIdSet } from './insert-id-set.js';

describe('InsertIdSet', () => {
  it('answers like a Set of strings, through many growths', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 36 }), { maxLength: 400 }), (ids) => {
        const set = new InsertIdSet(4);
        const reference = new Set<string>();
        for (const id of ids) {
          expect(set.add(id)).toBe(!reference.has(id));
          reference.add(id);
        }
        expect(set.size).toBe(reference.size);
      }),
    );
  });

  it('keeps 200,000 distinct insert IDs apart', () => {
    const set = new InsertIdSet();
    let added = 0;
    for (let i = 0; i < 200_000; i++) if (set.add(`ins-${i}`)) added++;
    let repeated = 0;
    for (let i = 0; i < 200_000; i += 997) if (!set.add(`ins-${i}`)) repeated++;
    expect(added).toBe(200_000);
    expect(repeated).toBe(Math.ceil(200_000 / 997));
    expect(set.size).toBe(200_000);
  });
});

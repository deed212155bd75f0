import { describe, expect, it } from 'vitest';
import { DedupSet } from './dedup-set.js';

describe('DedupSet', () => {
  it('tells keys apart by every field, whatever event came just before', () => {
    const set = new DedupSet(4);
    const names = ['A', 'B', 'A', 'AB', 'B'];
    let added = 0;
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 500; i++) {
        const name = names[i % names.length] as string;
        if (set.add(name, i % 7, 1763800000 + (i % 3), `i${i % 11}`)) added++;
      }
    }
    // Distinct (name, distinct_id, time, insert_id) tuples among the 500 of a round.
    const distinct = new Set<string>();
    for (let i = 0; i < 500; i++) distinct.add(`${names[i % names.length]}|${i % 7}|${i % 3}|${i % 11}`);
    expect(added).toBe(distinct.size);
    expect(set.size).toBe(distinct.size);
  });

  it('keeps a field boundary: ("ab", "c") is not ("a", "bc")', () => {
    const set = new DedupSet();
    expect(set.add('ab', 1, 5, 'c')).toBe(true);
    expect(set.add('a', 1, 5, 'bc')).toBe(true);
    expect(set.add('ab', 1, 5, 'c')).toBe(false);
  });
});

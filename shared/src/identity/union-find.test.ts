import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UnionFind } from './union-find.js';

/** The obvious model: every added ID maps to a set label; a union relabels all of one side. */
class ReferenceSets {
  readonly setOf = new Map<number, number>();
  readonly canonical = new Map<number, number>();
  readonly flags = new Map<number, number>();

  add(id: number): void {
    if (this.setOf.has(id)) return;
    this.setOf.set(id, id);
    this.canonical.set(id, id);
    this.flags.set(id, 0);
  }

  members(id: number): number[] {
    const set = this.setOf.get(id);
    return [...this.setOf].filter(([, s]) => s === set).map(([member]) => member);
  }

  union(a: number, b: number, canonicalFrom: number): void {
    const setA = this.setOf.get(a) as number;
    const setB = this.setOf.get(b) as number;
    if (setA === setB) return;
    const canonical = this.canonical.get(this.setOf.get(canonicalFrom) as number) as number;
    const flags = (this.flags.get(setA) as number) | (this.flags.get(setB) as number);
    for (const [member, set] of this.setOf) if (set === setB) this.setOf.set(member, setA);
    this.canonical.set(setA, canonical);
    this.flags.set(setA, flags);
  }
}

describe('UnionFind', () => {
  it('agrees with a naive set model on sizes, canonical members, flags and counts', () => {
    // IDs reach past the initial 1024 nodes, so the array grows along the way.
    const id = fc.constantFrom(0, 1, 2, 3, 5, 8, 1023, 1024, 5000, 70000);
    const op = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), a: id }),
      fc.record({ kind: fc.constant('union' as const), a: id, b: id, keepB: fc.boolean() }),
      fc.record({ kind: fc.constant('flag' as const), a: id, flag: fc.constantFrom(1, 2, 4) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const sets = new UnionFind();
        const reference = new ReferenceSets();
        for (const step of ops) {
          if (step.kind === 'add') {
            sets.add(step.a);
            reference.add(step.a);
          } else if (step.kind === 'union') {
            sets.add(step.a);
            sets.add(step.b);
            reference.add(step.a);
            reference.add(step.b);
            const canonicalFrom = step.keepB ? step.b : step.a;
            sets.union(step.a, step.b, canonicalFrom);
            reference.union(step.a, step.b, canonicalFrom);
          } else if (sets.has(step.a)) {
            sets.setFlags(step.a, step.flag);
            const set = reference.setOf.get(step.a) as number;
            reference.flags.set(set, (reference.flags.get(set) as number) | step.flag);
          }
        }
        expect(sets.memberCount).toBe(reference.setOf.size);
        expect(sets.setCount).toBe(new Set(reference.setOf.values()).size);
        for (const [member, set] of reference.setOf) {
          expect(sets.has(member)).toBe(true);
          expect(sets.sizeOf(member)).toBe(reference.members(member).length);
          expect(sets.canonicalOf(member)).toBe(reference.canonical.get(set));
          expect(sets.flags(member)).toBe(reference.flags.get(set));
          for (const other of reference.members(member)) expect(sets.find(other)).toBe(sets.find(member));
        }
      }),
    );
  });

  it('knows only the IDs it was given, including ones far past its initial size', () => {
    const sets = new UnionFind();
    expect(sets.has(0)).toBe(false);
    expect(sets.has(1_000_000)).toBe(false);
    sets.add(1_000_000);
    expect(sets.has(1_000_000)).toBe(true);
    expect(sets.has(999_999)).toBe(false);
    expect(sets.canonicalOf(1_000_000)).toBe(1_000_000);
  });

  it('keeps the canonical side as the root when the sizes tie', () => {
    const sets = new UnionFind();
    for (const id of [0, 1, 2, 3]) sets.add(id);
    sets.union(0, 1, 1);
    expect(sets.find(0)).toBe(1);
    sets.union(2, 3, 2);
    expect(sets.find(3)).toBe(2);
    sets.union(0, 2, 0); // 2 and 2: the side of 0, rooted at 1, stays
    expect([sets.find(2), sets.canonicalOf(3), sets.sizeOf(0)]).toEqual([1, 1, 4]);
  });
});

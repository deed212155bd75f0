import { Hash64Set } from '../identity/index.js';

/**
 * The sink's memory of insert IDs: a 64-bit hash of each ID in a Hash64Set (8 bytes a slot), a
 * fraction of what a Set of the strings holds (docs/benchmarks.md). Two different IDs share a hash
 * with a chance of about 3 in a million among 10 million IDs; the sink would then count one false
 * duplicate.
 */
export class InsertIdSet {
  private readonly table: Hash64Set;

  constructor(initialCapacity = 1 << 14) {
    this.table = new Hash64Set(initialCapacity);
  }

  get size(): number {
    return this.table.size;
  }

  /** Adds the ID; false when it was already there. */
  add(id: string): boolean {
    let a = 0x811c9dc5;
    let b = 0x2545f491;
    for (let i = 0; i < id.length; i++) {
      const c = id.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
      b ^= b >>> 15;
    }
    a ^= a >>> 16;
    a = Math.imul(a, 0x85ebca6b);
    a ^= a >>> 13;
    return this.table.add(a, b);
  }
}

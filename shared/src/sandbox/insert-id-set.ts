/**
 * The sink's memory of insert IDs: a 64-bit hash of each ID in an open-addressing table of two
 * Uint32Arrays (8 bytes a slot, load factor ≤ 0.75), about 110 MB for 10 million IDs where a
 * Set of strings takes about 740 MB. Two different IDs share a hash with a chance of about 3 in a
 * million among 10 million IDs; the sink would then count one false duplicate.
 */
export class InsertIdSet {
  private hi: Uint32Array;
  private lo: Uint32Array;
  private mask: number;
  private count = 0;

  constructor(initialCapacity = 1 << 14) {
    this.hi = new Uint32Array(initialCapacity);
    this.lo = new Uint32Array(initialCapacity);
    this.mask = initialCapacity - 1;
  }

  get size(): number {
    return this.count;
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
    return this.insert(a >>> 0, (b | 1) >>> 0); // lo never 0: 0 marks an empty slot
  }

  private insert(hi: number, lo: number): boolean {
    let slot = (hi ^ lo) & this.mask;
    while (this.lo[slot] !== 0) {
      if (this.lo[slot] === lo && this.hi[slot] === hi) return false;
      slot = (slot + 1) & this.mask;
    }
    this.hi[slot] = hi;
    this.lo[slot] = lo;
    this.count++;
    if (this.count * 4 > this.mask * 3) this.grow();
    return true;
  }

  private grow(): void {
    const oldHi = this.hi;
    const oldLo = this.lo;
    const capacity = oldLo.length * 2;
    this.hi = new Uint32Array(capacity);
    this.lo = new Uint32Array(capacity);
    this.mask = capacity - 1;
    this.count = 0;
    for (let i = 0; i < oldLo.length; i++) {
      const lo = oldLo[i] as number;
      if (lo !== 0) this.insert(oldHi[i] as number, lo);
    }
  }
}

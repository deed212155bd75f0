/**
 * A set of 64-bit hashes in 8 bytes each: an open-addressing table of two Uint32Arrays with linear
 * probing, grown at load factor 0.75. Callers hash their own keys (two 32-bit halves). Two distinct
 * keys collide with a chance of about 3 in a million among 10 million keys; callers that use it say
 * so where it matters.
 */
export class Hash64Set {
  private hi: Uint32Array;
  private lo: Uint32Array;
  private mask: number;
  private count = 0;

  constructor(initialCapacity = 1 << 12) {
    this.hi = new Uint32Array(initialCapacity);
    this.lo = new Uint32Array(initialCapacity);
    this.mask = initialCapacity - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Adds the hash whose halves are `hi` and `lo`; false when it was already there. */
  add(hi: number, lo: number): boolean {
    return this.insert(hi >>> 0, (lo | 1) >>> 0); // lo is never 0: 0 marks an empty slot
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

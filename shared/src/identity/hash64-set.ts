/**
 * A set of 64-bit hashes in 8 bytes each: an open-addressing table with linear probing, grown at
 * load factor 0.75. Both halves of a hash sit side by side in one Uint32Array, so a probe reads one
 * cache line (the set is far larger than the caches). Callers hash their own keys (two 32-bit
 * halves). Two distinct keys collide with a chance of about 3 in a million among 10 million keys;
 * callers that use it say so where it matters.
 */
export class Hash64Set {
  /** Slot i holds [hi, lo] at 2i and 2i+1; lo 0 marks an empty slot. */
  private slots: Uint32Array;
  private mask: number;
  private count = 0;

  constructor(initialCapacity = 1 << 12) {
    this.slots = new Uint32Array(initialCapacity * 2);
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
    const slots = this.slots;
    const mask = this.mask;
    let slot = (hi ^ lo) & mask;
    for (;;) {
      const slotLo = slots[slot * 2 + 1] as number;
      if (slotLo === 0) break;
      if (slotLo === lo && slots[slot * 2] === hi) return false;
      slot = (slot + 1) & mask;
    }
    slots[slot * 2] = hi;
    slots[slot * 2 + 1] = lo;
    this.count++;
    if (this.count * 4 > mask * 3) this.grow();
    return true;
  }

  private grow(): void {
    const old = this.slots;
    const capacity = (this.mask + 1) * 2;
    this.slots = new Uint32Array(capacity * 2);
    this.mask = capacity - 1;
    this.count = 0;
    for (let i = 0; i < old.length; i += 2) {
      const lo = old[i + 1] as number;
      if (lo !== 0) this.insert(old[i] as number, lo);
    }
  }
}

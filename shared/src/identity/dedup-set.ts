/**
 * Remembers Mixpanel's deduplication keys (event, distinct_id, time, $insert_id) in 8 bytes each:
 * a 64-bit hash in an open-addressing table of two Uint32Arrays (load factor up to 0.75). Keys are hashed field by field
 * without building a string. The chance that two different keys collide among 10 million is about
 * 3 in a million; the trade buys a model that holds tens of millions of events in a few hundred MB.
 */
export class DedupSet {
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

  /** Adds the key; false when it was already there (a duplicate). */
  add(event: string, distinctId: number, time: number, insertId: string): boolean {
    h1 = 0x811c9dc5;
    h2 = 0x9747b28c;
    mixString(event);
    mixNumber(distinctId);
    mixNumber(time);
    mixString(insertId);
    const hi = h1 >>> 0;
    const lo = (h2 | 1) >>> 0; // never 0: 0 marks an empty slot
    return this.insert(hi, lo);
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
    if (this.count * 4 > this.mask * 3) this.grow(); // load factor 0.75
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

// The running hash of the key being added (module state: no allocation per key).
let h1 = 0;
let h2 = 0;

function mixString(text: string): void {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  // a field separator, so ("ab", "c") and ("a", "bc") differ
  h1 = Math.imul(h1 ^ 0xff, 0x01000193);
  h2 = Math.imul(h2 ^ 0xff, 0x5bd1e995);
}

const scratch = new Float64Array(1);
const scratchWords = new Uint32Array(scratch.buffer);

function mixNumber(value: number): void {
  scratch[0] = value;
  for (let i = 0; i < 2; i++) {
    const word = scratchWords[i] as number;
    h1 = Math.imul(h1 ^ word, 0x01000193);
    h2 = Math.imul(h2 ^ word, 0x5bd1e995);
    h2 ^= h2 >>> 13;
  }
}

/**
 * Interns strings to dense indexes (0, 1, 2, …) in an open-addressing table, with two separate
 * namespaces ("kinds" 0 and 1): the same text interned under both kinds gets two indexes.
 *
 * Why not a Map<string, number>: with millions of IDs a Map lookup costs several cache misses
 * (bucket, entry chain, key) and a fresh key string has its hash computed by V8 anyway. Here a
 * slot is two adjacent Int32 words, [tag, entry], so one probe reads one cache line; the key
 * string is only read when the 32-bit tags agree, which for a miss almost never happens.
 */
export class StringInterner {
  /** Pairs of words per slot: the key's tag (0 = empty slot) and `index * 2 + kind`. */
  private slots: Int32Array;
  private mask: number;
  private readonly keys: string[] = [];
  private kinds: Uint8Array;

  constructor(initialCapacity = 1 << 12) {
    const capacity = powerOfTwoAtLeast(Math.max(initialCapacity, 4));
    this.slots = new Int32Array(capacity * 2);
    this.mask = capacity - 1;
    this.kinds = new Uint8Array(1024);
  }

  get size(): number {
    return this.keys.length;
  }

  /** The index of `key` in namespace `kind`, or -1 when it was never interned (creates nothing). */
  find(key: string, kind: Kind): number {
    const tag = tagOf(key, kind);
    const slots = this.slots;
    const mask = this.mask;
    let slot = tag & mask;
    for (;;) {
      const slotTag = slots[slot * 2] as number;
      if (slotTag === 0) return -1;
      if (slotTag === tag) {
        const entry = slots[slot * 2 + 1] as number;
        if ((entry & 1) === kind && this.keys[entry >>> 1] === key) return entry >>> 1;
      }
      slot = (slot + 1) & mask;
    }
  }

  /** The index of `key` in namespace `kind`, created when new. */
  intern(key: string, kind: Kind): number {
    const tag = tagOf(key, kind);
    const slots = this.slots;
    const mask = this.mask;
    let slot = tag & mask;
    for (;;) {
      const slotTag = slots[slot * 2] as number;
      if (slotTag === 0) break;
      if (slotTag === tag) {
        const entry = slots[slot * 2 + 1] as number;
        if ((entry & 1) === kind && this.keys[entry >>> 1] === key) return entry >>> 1;
      }
      slot = (slot + 1) & mask;
    }
    const index = this.keys.length;
    this.keys.push(key);
    if (index >= this.kinds.length) this.kinds = grownCopy(this.kinds, index);
    this.kinds[index] = kind;
    slots[slot * 2] = tag;
    slots[slot * 2 + 1] = index * 2 + kind;
    // Grow at load factor 0.5: linear probing stays short, and 8 bytes a slot keeps it small.
    if (this.keys.length * 2 > mask) this.grow();
    return index;
  }

  /** The text interned as `index`. */
  key(index: number): string | undefined {
    return this.keys[index];
  }

  /** The namespace `index` was interned in. */
  kind(index: number): Kind {
    return this.kinds[index] === 1 ? 1 : 0;
  }

  private grow(): void {
    const old = this.slots;
    const capacity = (this.mask + 1) * 2;
    const slots = new Int32Array(capacity * 2);
    const mask = capacity - 1;
    // Tags are kept in the slots, so growing never hashes a string again.
    for (let i = 0; i < old.length; i += 2) {
      const tag = old[i] as number;
      if (tag === 0) continue;
      let slot = tag & mask;
      while (slots[slot * 2] !== 0) slot = (slot + 1) & mask;
      slots[slot * 2] = tag;
      slots[slot * 2 + 1] = old[i + 1] as number;
    }
    this.slots = slots;
    this.mask = mask;
  }
}

export type Kind = 0 | 1;

/**
 * A 32-bit hash of the key and its kind, never 0 (0 marks an empty slot): FNV-1a over the UTF-16
 * code units, then a murmur3 finalizer so that the low bits used as slot numbers are well mixed.
 */
export function tagOf(key: string, kind: Kind): number {
  let h = kind === 0 ? 0x811c9dc5 : 0x050c5d1f;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h === 0 ? 1 : h;
}

function powerOfTwoAtLeast(n: number): number {
  let capacity = 1;
  while (capacity < n) capacity *= 2;
  return capacity;
}

function grownCopy(data: Uint8Array, index: number): Uint8Array {
  let capacity = data.length * 2;
  while (capacity <= index) capacity *= 2;
  const grown = new Uint8Array(capacity);
  grown.set(data);
  return grown;
}

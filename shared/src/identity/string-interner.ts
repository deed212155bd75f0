/** Int32 words per slot: tag, entry, where, header, then INLINE_BYTES of characters. */
const SLOT = 8;
/** A key of at most this many characters, all below U+0100, is kept in its slot as bytes. */
const INLINE_BYTES = 16;
/** Code units passed to one String.fromCharCode call when rebuilding a key. */
const KEY_PIECE = 4096;

/**
 * Interns strings to dense indexes (0, 1, 2, …) in an open-addressing table, with two separate
 * namespaces ("kinds" 0 and 1): the same text interned under both kinds gets two indexes.
 *
 * Why not a Map<string, number>: with millions of IDs a Map lookup costs several cache misses
 * (bucket, entry chain, key) and a fresh key string has its hash computed by V8 anyway. Here a
 * slot is 32 adjacent bytes, so one probe reads one cache line. When the 32-bit tags agree, the key
 * is confirmed against its characters: a short Latin-1 key (most IDs: `12345`, `user-42`) is kept
 * in the slot itself, any other against the copy in `chars` at `where` (one more cache miss; the
 * kept string would cost two, the array of strings and then the string).
 *
 * The key strings themselves are not kept: `key()` rebuilds one from `chars`. Millions of kept
 * strings would be copied by the young-generation GC and marked by every full GC.
 */
export class StringInterner {
  /**
   * Per slot: the key's tag (0 = empty slot), `index * 2 + kind`, the key's place in `chars`,
   * `length * 2 + 1` when the key's characters follow as bytes (else `length * 2`), the bytes.
   */
  private slots: Int32Array;
  private mask: number;
  private count = 0;
  /** Per index: where its characters start in `chars`. */
  private wheres: Int32Array;
  /** Per index: its namespace. */
  private kinds: Uint8Array;
  /** Every key once, in order: its length (low, then high 16 bits), then its UTF-16 code units. */
  private chars: Uint16Array;
  private charsUsed = 0;

  constructor(initialCapacity = 1 << 12) {
    const capacity = powerOfTwoAtLeast(Math.max(initialCapacity, 4));
    this.slots = new Int32Array(capacity * SLOT);
    this.mask = capacity - 1;
    this.wheres = new Int32Array(1024);
    this.kinds = new Uint8Array(1024);
    this.chars = new Uint16Array(capacity * 8);
  }

  get size(): number {
    return this.count;
  }

  /** The index of `key` in namespace `kind`, or -1 when it was never interned (creates nothing). */
  find(key: string, kind: Kind): number {
    const found = this.probe(key, kind, tagOf(key, kind));
    return found >= 0 ? found : -1;
  }

  /** The index of `key` in namespace `kind`, created when new. */
  intern(key: string, kind: Kind): number {
    const tag = tagOf(key, kind);
    const found = this.probe(key, kind, tag);
    if (found >= 0) return found;
    const slot = -1 - found;
    const index = this.count++;
    if (index >= this.kinds.length) {
      this.kinds = grownCopy(this.kinds, new Uint8Array(this.kinds.length * 2));
      this.wheres = grownCopy(this.wheres, new Int32Array(this.wheres.length * 2));
    }
    const where = this.copyChars(key);
    this.kinds[index] = kind;
    this.wheres[index] = where;
    this.fillSlot(slot * SLOT, tag, index * 2 + kind, where, key);
    // Grow at load factor 0.5: linear probing stays short.
    if (this.count * 2 > this.mask) this.grow();
    return index;
  }

  /** Linear probing for `key`: its index when interned, else -1 − the free slot where it would go. */
  private probe(key: string, kind: Kind, tag: number): number {
    const slots = this.slots;
    const mask = this.mask;
    let slot = tag & mask;
    for (;;) {
      const at = slot * SLOT;
      const slotTag = slots[at] as number;
      if (slotTag === 0) return -1 - slot;
      if (slotTag === tag) {
        const entry = slots[at + 1] as number;
        if ((entry & 1) === kind && this.slotHolds(at, key)) return entry >>> 1;
      }
      slot = (slot + 1) & mask;
    }
  }

  private fillSlot(at: number, tag: number, entry: number, where: number, key: string): void {
    const slots = this.slots;
    slots[at] = tag;
    slots[at + 1] = entry;
    slots[at + 2] = where;
    const length = key.length;
    let inline = length <= INLINE_BYTES;
    for (let i = 0; inline && i < length; i++) inline = key.charCodeAt(i) < 0x100;
    slots[at + 3] = length * 2 + (inline ? 1 : 0);
    if (!inline) return;
    for (let i = 0; i < length; i++) {
      const word = at + 4 + (i >>> 2);
      slots[word] = (slots[word] as number) | (key.charCodeAt(i) << ((i & 3) * 8));
    }
  }

  /** True when the key of the slot at `at` is `key`. */
  private slotHolds(at: number, key: string): boolean {
    const slots = this.slots;
    const header = slots[at + 3] as number;
    const length = key.length;
    if (header >>> 1 !== length) return false;
    if ((header & 1) === 0) return this.holds(slots[at + 2] as number, key);
    for (let i = 0; i < length; i++) {
      const byte = ((slots[at + 4 + (i >>> 2)] as number) >>> ((i & 3) * 8)) & 0xff;
      if (byte !== key.charCodeAt(i)) return false; // a character from U+0100 up never matches
    }
    return true;
  }

  /** True when the characters kept at `where` are those of `key`. */
  private holds(where: number, key: string): boolean {
    const chars = this.chars;
    const length = key.length;
    if (chars[where] !== (length & 0xffff) || chars[where + 1] !== length >>> 16) return false;
    for (let i = 0; i < length; i++) if (chars[where + 2 + i] !== key.charCodeAt(i)) return false;
    return true;
  }

  /** Appends the key's length and characters to `chars`; returns where they start. */
  private copyChars(key: string): number {
    const where = this.charsUsed;
    const end = where + 2 + key.length;
    if (end > this.chars.length) {
      let length = this.chars.length * 2;
      while (length < end) length *= 2;
      const grown = new Uint16Array(length);
      grown.set(this.chars);
      this.chars = grown;
    }
    this.chars[where] = key.length & 0xffff;
    this.chars[where + 1] = key.length >>> 16;
    for (let i = 0; i < key.length; i++) this.chars[where + 2 + i] = key.charCodeAt(i);
    this.charsUsed = end;
    return where;
  }

  /** The text interned as `index` (a new string, rebuilt from the kept characters). */
  key(index: number): string | undefined {
    if (!Number.isInteger(index) || index < 0 || index >= this.count) return undefined;
    const where = this.wheres[index] as number;
    const chars = this.chars;
    const start = where + 2;
    const end = start + ((chars[where] as number) | ((chars[where + 1] as number) << 16));
    // fromCharCode copies code units as they are (a lone surrogate stays one); in pieces, since
    // every unit is passed as an argument.
    let text = '';
    for (let from = start; from < end; from += KEY_PIECE) {
      text += String.fromCharCode(...chars.subarray(from, Math.min(end, from + KEY_PIECE)));
    }
    return text;
  }

  /** The namespace `index` was interned in. */
  kind(index: number): Kind {
    return this.kinds[index] === 1 ? 1 : 0;
  }

  private grow(): void {
    const old = this.slots;
    const capacity = (this.mask + 1) * 2;
    const slots = new Int32Array(capacity * SLOT);
    const mask = capacity - 1;
    // Tags are kept in the slots, so growing never hashes a string again.
    for (let i = 0; i < old.length; i += SLOT) {
      const tag = old[i] as number;
      if (tag === 0) continue;
      let slot = tag & mask;
      while (slots[slot * SLOT] !== 0) slot = (slot + 1) & mask;
      for (let word = 0; word < SLOT; word++) slots[slot * SLOT + word] = old[i + word] as number;
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

/** Copies `data` into the larger `into`. */
function grownCopy<T extends Uint8Array | Int32Array>(data: T, into: T): T {
  into.set(data);
  return into;
}

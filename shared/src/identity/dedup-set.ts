import { Hash64Set } from './hash64-set.js';

/**
 * Remembers Mixpanel's deduplication keys (event, distinct_id, time, $insert_id) in 8 bytes each:
 * a 64-bit hash in a Hash64Set. Keys are hashed field by field
 * without building a string. The chance that two different keys collide among 10 million is about
 * 3 in a million; the trade buys a model that holds tens of millions of events in a few hundred MB.
 */
export class DedupSet {
  private readonly table: Hash64Set;
  private lastEvent: string | undefined;
  private lastEventH1 = 0;
  private lastEventH2 = 0;

  constructor(initialCapacity = 1 << 12) {
    this.table = new Hash64Set(initialCapacity);
  }

  get size(): number {
    return this.table.size;
  }

  /** Adds the key; false when it was already there (a duplicate). */
  add(event: string, distinctId: number, time: number, insertId: string): boolean {
    // Event names repeat from one event to the next: the hash of the last one is kept.
    if (event !== this.lastEvent) {
      h1 = 0x811c9dc5;
      h2 = 0x9747b28c;
      mixString(event);
      this.lastEvent = event;
      this.lastEventH1 = h1;
      this.lastEventH2 = h2;
    }
    h1 = this.lastEventH1;
    h2 = this.lastEventH2;
    mixNumber(distinctId);
    mixNumber(time);
    mixString(insertId);
    return this.table.add(h1, h2);
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

import type { LogPosition } from './progress.js';

/** One flushed record as it was appended: its text, where it starts and ends, and its memo. */
export interface RecentRecord<Memo> {
  text: string;
  start: LogPosition;
  end: LogPosition;
  memo?: Memo;
}

/** One append as it was written: its records' texts, the offset past each frame, their memos. */
export interface FlushedAppend<Memo> {
  texts: readonly string[];
  /** Offsets just past each record's frame, from the start of this append's bytes. */
  ends: readonly number[];
  memos: ReadonlyArray<Memo | undefined> | undefined;
}

const before = (a: LogPosition, b: LogPosition): boolean =>
  a.segment < b.segment || (a.segment === b.segment && a.offset < b.offset);

const same = (a: LogPosition, b: LogPosition): boolean => a.segment === b.segment && a.offset === b.offset;

/**
 * The records flushed but not yet read, in log order, kept in memory so that the reader takes them
 * from here instead of reading and decoding them from disk again. A copy only: the log on disk is
 * what counts (after a restart, or once this is full, records are read from disk). Bounded by the
 * text bytes it holds: at `maxBytes` the oldest are let go.
 */
export class RecentRecords<Memo> {
  private items: Array<RecentRecord<Memo> | undefined> = [];
  private head = 0;
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  /** Appends just flushed, back to back from `at`, in order. */
  addFlushed(at: LogPosition, appends: ReadonlyArray<FlushedAppend<Memo>>): void {
    let offset = at.offset;
    for (const { texts, ends, memos } of appends) {
      const base = offset;
      for (let i = 0; i < texts.length; i++) {
        const text = texts[i] as string;
        const end = { segment: at.segment, offset: base + (ends[i] as number) };
        const memo = memos?.[i];
        const start = { segment: at.segment, offset };
        this.items.push(memo === undefined ? { text, start, end } : { text, start, end, memo });
        this.bytes += text.length;
        offset = end.offset;
      }
    }
    while (this.bytes > this.maxBytes && this.head < this.items.length) this.shift();
    this.compact();
  }

  /**
   * The records from `from` on, up to about `maxBytes` of text (at least one), taken out; empty
   * when the oldest record kept does not start at `from` (the reader reads the disk then).
   */
  take(from: LogPosition, maxBytes: number): Array<RecentRecord<Memo>> {
    const first = this.items[this.head];
    if (first === undefined || !same(first.start, from)) return [];
    const out: Array<RecentRecord<Memo>> = [];
    let size = 0;
    while (this.head < this.items.length && (out.length === 0 || size < maxBytes)) {
      const record = this.shift();
      size += record.text.length;
      out.push(record);
    }
    this.compact();
    return out;
  }

  /** Lets go of the records that start before `position` (read from disk instead). */
  dropBefore(position: LogPosition): void {
    while (
      this.head < this.items.length &&
      before((this.items[this.head] as RecentRecord<Memo>).start, position)
    )
      this.shift();
    this.compact();
  }

  /** Records kept, for tests. */
  get size(): number {
    return this.items.length - this.head;
  }

  private shift(): RecentRecord<Memo> {
    const record = this.items[this.head] as RecentRecord<Memo>;
    this.items[this.head] = undefined;
    this.head++;
    this.bytes -= record.text.length;
    return record;
  }

  private compact(): void {
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}

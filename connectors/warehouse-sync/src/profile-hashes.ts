import { createHash } from 'node:crypto';
import {
  closeSync,
  fchmodSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

/** A short, stable fingerprint of what a profiles row maps to. */
export function fingerprint(value: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)))
    .digest('base64url')
    .slice(0, 22);
}

/** Marks, in the file, a key whose hash was forgotten (it is still a synced key). */
const FORGOTTEN = '-';
/** Marks, in the file, a key that left the sync: its `$delete` was accepted. */
const REMOVED = 'removed';
const HASH = /^[A-Za-z0-9_-]{22}$/;

/**
 * The hash of every profile key as last delivered, and the Mixpanel ID (`$distinct_id`, or
 * `$group_id`) each synced key was sent as, kept in the sync's state folder. Changes are appended
 * (and flushed to disk) after each delivered page, so a run killed at any point loses nothing; a
 * finished run rewrites the file compactly (temporary file + rename).
 *
 * File lines: `"key"<TAB>ID<TAB>hash` (ID empty when it equals the key; hash `-` when none is
 * trusted), `"key"<TAB>removed` (deleted), and `"key"<TAB>hash`,
 * written by versions that did not record the ID (it is then unknown until the row is read again).
 */
export class ProfileHashes {
  private readonly file: string;
  private readonly hashes = new Map<string, string>();
  /**
   * Every key synced and not deleted since, with the ID it was sent as when that differs from the
   * key (`null`: not known, from an older file). A forgotten hash leaves the key here: its profile
   * may exist in Mixpanel, so it is still deleted when it leaves the source.
   */
  private readonly synced = new Map<string, string | null | undefined>();
  /** Hashes set and not yet on disk, with the order they were set in (see `mark`). */
  private readonly pending = new Map<string, { hash: string; seq: number }>();
  /** Keys forgotten since the last commit (their earlier hash may be on disk). */
  private forgotten: string[] = [];
  /** Keys deleted, and keys whose ID became known, since the last commit. */
  private removed: string[] = [];
  private identified: string[] = [];
  private seq = 0;

  constructor(dir: string) {
    this.file = join(dir, 'profile-hashes.tsv');
    let text = '';
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return;
    }
    for (const line of text.split('\n')) this.readLine(line);
  }

  /** One line of the file. A line cut short by a crash ends in no known mark and is ignored. */
  private readLine(line: string): void {
    const fields = line.split('\t'); // JSON text never holds a raw tab
    const last = fields[fields.length - 1] as string;
    if (
      fields.length < 2 ||
      fields.length > 3 ||
      !(HASH.test(last) || last === FORGOTTEN || last === REMOVED)
    )
      return;
    const key = JSON.parse(fields[0] as string) as string;
    if (last === REMOVED) {
      this.hashes.delete(key);
      this.synced.delete(key);
      return;
    }
    if (last === FORGOTTEN) this.hashes.delete(key);
    else this.hashes.set(key, last);
    if (fields.length === 3) {
      const id = fields[1] as string;
      this.synced.set(key, id === '' ? undefined : (JSON.parse(id) as string));
    } else if (!this.synced.has(key)) this.synced.set(key, null);
  }

  get size(): number {
    return this.hashes.size;
  }

  /** Keys synced before and not deleted since (the base of a percentage `max_deletes`). */
  get syncedCount(): number {
    return this.synced.size;
  }

  /** True when `key` was synced before and not deleted since. */
  isSynced(key: string): boolean {
    return this.synced.has(key);
  }

  /** Every synced key with the ID it was sent as (`null`: unknown, written by an older version). */
  *syncedKeys(): Generator<[key: string, id: string | null]> {
    for (const [key, id] of this.synced) yield [key, id === undefined ? key : id];
  }

  /**
   * True when `key` was delivered before with exactly this hash. An unchanged key whose ID the
   * file did not know (an older version's line) learns it here.
   */
  unchanged(key: string, hash: string, id?: string): boolean {
    const same = this.hashes.get(key) === hash;
    if (same && id !== undefined && this.synced.get(key) === null) {
      this.synced.set(key, id === key ? undefined : id);
      this.identified.push(key);
    }
    return same;
  }

  /** Remembers a hash; it reaches the disk with the first `commitThrough` of a later mark. */
  set(key: string, hash: string, id: string = key): void {
    this.hashes.set(key, hash);
    this.synced.set(key, id === key ? undefined : id);
    this.pending.set(key, { hash, seq: this.seq++ });
  }

  /** A key whose `$delete` was accepted: it leaves the state with the next commit. */
  remove(key: string): void {
    this.hashes.delete(key);
    this.synced.delete(key);
    this.pending.delete(key);
    this.removed.push(key);
  }

  /** Every hash is dropped (so every row is sent again); the synced keys stay, for deletes. */
  forgetHashes(): void {
    for (const key of [...this.hashes.keys()]) this.forget(key);
  }

  private line(key: string, hash: string | undefined): string {
    const id = this.synced.get(key);
    if (id === null) return `${JSON.stringify(key)}\t${hash ?? FORGOTTEN}\n`;
    return `${JSON.stringify(key)}\t${id === undefined ? '' : JSON.stringify(id)}\t${hash ?? FORGOTTEN}\n`;
  }

  /**
   * Forgets the hash of a key whose delivery failed or is uncertain, so the next run sends it again
   * (it stays a synced key). A hash of it not yet on disk never gets there; the forgetting itself
   * reaches the disk with the next commit.
   */
  forget(key: string): void {
    if (!this.hashes.delete(key)) return;
    this.pending.delete(key);
    this.forgotten.push(key);
  }

  /** A point in the order of `set` calls: `commitThrough` of it writes the hashes set before it. */
  mark(): number {
    return this.seq;
  }

  /**
   * Appends (and flushes) the hashes set before `mark`, once the records they describe were
   * delivered, and every forgetting so far. Hashes set later (a page still in flight) wait.
   */
  commitThrough(mark: number): void {
    let text = '';
    for (const key of this.forgotten) text += this.line(key, undefined);
    this.forgotten = [];
    for (const key of this.removed) text += `${JSON.stringify(key)}\t${REMOVED}\n`;
    this.removed = [];
    for (const key of this.identified) if (this.synced.has(key)) text += this.line(key, this.hashes.get(key));
    this.identified = [];
    for (const [key, entry] of this.pending) {
      if (entry.seq >= mark) continue;
      text += this.line(key, entry.hash);
      this.pending.delete(key);
    }
    if (text === '') return;
    const fd = openSync(this.file, 'a', 0o600);
    try {
      fchmodSync(fd, 0o600); // user IDs: never readable by others, even in a file an older version made
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Appends every hash set and every forgetting so far. */
  commit(): void {
    this.commitThrough(Number.POSITIVE_INFINITY);
  }

  /** Rewrites the file with one line per key. */
  compact(): void {
    const temporary = `${this.file}.tmp`;
    const fd = openSync(temporary, 'w', 0o600);
    try {
      fchmodSync(fd, 0o600);
      let chunk = '';
      for (const key of this.synced.keys()) {
        chunk += this.line(key, this.hashes.get(key));
        if (chunk.length > 1 << 20) {
          writeSync(fd, chunk);
          chunk = '';
        }
      }
      writeSync(fd, chunk);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, this.file);
  }

  /** Forgets every hash and every synced key (full refresh sends every profile again). */
  clear(): void {
    this.hashes.clear();
    this.synced.clear();
    this.pending.clear();
    this.forgotten = [];
    this.removed = [];
    this.identified = [];
    rmSync(this.file, { force: true });
  }
}

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

/** Marks, in the file, a key forgotten after its hash was written. */
const FORGOTTEN = '-';

/**
 * The hash of every profile key as last delivered, kept in the sync's state folder. Changes are
 * appended (and flushed to disk) after each delivered page, so a run killed at any point loses
 * nothing; a finished run rewrites the file compactly (temporary file + rename).
 */
export class ProfileHashes {
  private readonly file: string;
  private readonly hashes = new Map<string, string>();
  /** Hashes set and not yet on disk, with the order they were set in (see `mark`). */
  private readonly pending = new Map<string, { hash: string; seq: number }>();
  /** Keys forgotten since the last commit (their earlier hash may be on disk). */
  private forgotten: string[] = [];
  private seq = 0;

  constructor(dir: string) {
    this.file = join(dir, 'profile-hashes.tsv');
    let text = '';
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return;
    }
    for (const line of text.split('\n')) {
      const tab = line.lastIndexOf('\t');
      if (tab <= 0) continue;
      const hash = line.slice(tab + 1);
      if (hash === FORGOTTEN) this.hashes.delete(JSON.parse(line.slice(0, tab)) as string);
      // A line cut short by a crash has no tab or a short hash: it is ignored (its page is re-sent).
      else if (hash.length === 22) this.hashes.set(JSON.parse(line.slice(0, tab)) as string, hash);
    }
  }

  get size(): number {
    return this.hashes.size;
  }

  /** True when `key` was delivered before with exactly this hash. */
  unchanged(key: string, hash: string): boolean {
    return this.hashes.get(key) === hash;
  }

  /** Remembers a hash; it reaches the disk with the first `commitThrough` of a later mark. */
  set(key: string, hash: string): void {
    this.hashes.set(key, hash);
    this.pending.set(key, { hash, seq: this.seq++ });
  }

  /**
   * Forgets a key whose delivery failed or is uncertain, so the next run sends it again. A hash of it
   * not yet on disk never gets there; the forgetting itself reaches the disk with the next commit.
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
    for (const key of this.forgotten) text += `${JSON.stringify(key)}\t${FORGOTTEN}\n`;
    this.forgotten = [];
    for (const [key, entry] of this.pending) {
      if (entry.seq >= mark) continue;
      text += `${JSON.stringify(key)}\t${entry.hash}\n`;
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
      for (const [key, hash] of this.hashes) {
        chunk += `${JSON.stringify(key)}\t${hash}\n`;
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

  /** Forgets every hash (full refresh sends every profile again). */
  clear(): void {
    this.hashes.clear();
    this.pending.clear();
    this.forgotten = [];
    rmSync(this.file, { force: true });
  }
}

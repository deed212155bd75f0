import { closeSync, fchmodSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { takeLock } from './lock.js';

const positionSchema = z.object({
  cursor: z.string(),
  key: z.string(),
  /** Among the rows with a NULL cursor, read after the window. */
  nullCursor: z.boolean().optional(),
});

export const syncStateSchema = z.object({
  /** Upper bound of the last completed run: the next run reads rows after it (minus the lookback). */
  bound: z.string().optional(),
  /** A run that has not finished: its frozen window and the last page it delivered. */
  inProgress: z
    .object({
      after: z.string().optional(),
      upTo: z.string().optional(),
      position: positionSchema.optional(),
    })
    .optional(),
  completedRuns: z.number().int().nonnegative().default(0),
  /** Lookup tables: what the last successful replace sent, so an unchanged result sends nothing. */
  lookupTable: z
    .object({
      /** Where it went: the API host, project and table ID (another target is always sent to). */
      target: z.string(),
      /** SHA-256 of the CSV sent, in hex. */
      sha256: z.string(),
      rows: z.number().int().nonnegative(),
      bytes: z.number().int().nonnegative(),
      replacedAt: z.string(),
    })
    .optional(),
});
export type SyncState = z.infer<typeof syncStateSchema>;

/** A sync's state folder: `state.json` written atomically, and a lock so two runs never overlap. */
export class StateStore {
  private readonly file: string;

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, 'state.json');
  }

  load(): SyncState {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { completedRuns: 0 };
      throw new Error(`cannot read the sync state ${this.file}: ${(error as Error).message}`);
    }
    const corrupt = (problem: string) =>
      new Error(
        `${this.file} is not a valid sync state (${problem}). Restore it from a backup, or move it away: ` +
          'the next run then reads every row again from the start (insert IDs keep that from duplicating events)',
      );
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw corrupt(`not JSON: ${(error as Error).message}`);
    }
    const parsed = syncStateSchema.safeParse(json);
    if (!parsed.success)
      throw corrupt(
        parsed.error.issues.map((i) => `${i.path.join('.') || 'the file'}: ${i.message}`).join('; '),
      );
    return parsed.data;
  }

  /**
   * Writes to a temporary file, then renames it over the old state: a reader never sees it
   * half-written. Created 0600: the positions hold user and device IDs when those are the key.
   */
  save(state: SyncState): void {
    const temporary = `${this.file}.tmp`;
    const fd = openSync(temporary, 'w', 0o600);
    try {
      fchmodSync(fd, 0o600); // a temporary file left by an older version may be 0644
      writeSync(fd, JSON.stringify(state, null, 2));
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, this.file);
  }

  /**
   * Takes the lock, or says which process holds it. A lock whose holder is gone (a dead process, a
   * reused PID, an earlier boot, a silent other host) is taken over: see lock.ts.
   */
  lock(syncName: string): () => void {
    return takeLock(this.dir, syncName);
  }
}

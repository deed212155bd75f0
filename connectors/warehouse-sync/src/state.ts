import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

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
});
export type SyncState = z.infer<typeof syncStateSchema>;

/** A sync's state folder: `state.json` written atomically, and a lock so two runs never overlap. */
export class StateStore {
  private readonly file: string;
  private readonly lockFile: string;

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, 'state.json');
    this.lockFile = join(dir, 'lock');
  }

  load(): SyncState {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return { completedRuns: 0 };
    }
    const parsed = syncStateSchema.safeParse(JSON.parse(text));
    if (!parsed.success)
      throw new Error(
        `${this.file} is not a valid sync state (${parsed.error.message}); move it away to start over`,
      );
    return parsed.data;
  }

  /** Writes to a temporary file, flushes it, then renames it over the old state: never half-written. */
  save(state: SyncState): void {
    const temporary = `${this.file}.tmp`;
    const fd = openSync(temporary, 'w');
    try {
      writeSync(fd, JSON.stringify(state, null, 2));
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, this.file);
  }

  /** Takes the lock, or says which process holds it. A lock left by a dead process is taken over. */
  lock(syncName: string): () => void {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(this.lockFile, String(process.pid), { flag: 'wx' });
        return () => rmSync(this.lockFile, { force: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const holder = Number(readFileSync(this.lockFile, 'utf8'));
        if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) {
          throw new Error(
            `another run of sync "${syncName}" is in progress (process ${holder}); wait for it, or stop it first`,
          );
        }
        rmSync(this.lockFile, { force: true });
      }
    }
    throw new Error(`cannot take the lock ${this.lockFile}`);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

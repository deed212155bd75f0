import { readFile, rename, open } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { syncDirectory } from './segment-files.js';

/** A place in the log: a segment and a byte offset in it (always a frame boundary). */
export interface LogPosition {
  segment: number;
  offset: number;
}

const positionSchema = z.object({
  segment: z.number().int().positive(),
  offset: z.number().int().nonnegative(),
});

const FILE = 'progress.json';

/** The delivered-up-to position, or undefined when none was recorded (or it cannot be read). */
export async function readProgress(dir: string): Promise<LogPosition | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, FILE), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = positionSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Replaces the progress file atomically (a temporary file, flushed, renamed over it, the directory
 * flushed): after a crash it holds the old position or the new one, never a mix. An old position
 * only means calls are sent again, which their `$insert_id` makes harmless.
 */
export async function writeProgress(dir: string, position: LogPosition): Promise<void> {
  const temporary = join(dir, `${FILE}.tmp`);
  const handle = await open(temporary, 'w', 0o600);
  try {
    await handle.writeFile(JSON.stringify(position));
    await handle.datasync();
  } finally {
    await handle.close();
  }
  await rename(temporary, join(dir, FILE));
  await syncDirectory(dir);
}

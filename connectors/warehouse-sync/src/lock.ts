import {
  closeSync,
  linkSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * Who holds a lock: enough to tell, from this machine, whether that process still runs. A PID alone
 * is not: in a container the sync is often PID 1 again after a restart, so its own stale lock would
 * look alive. The boot ID and the process's start time (clock ticks since boot) tell a reused PID.
 */
const holderSchema = z.object({
  pid: z.number().int().positive(),
  host: z.string(),
  bootId: z.string().optional(),
  startTime: z.string().optional(),
  since: z.string(),
});
type Holder = z.infer<typeof holderSchema>;

/** A holder on another host proves it is alive by touching its lock this often… */
const HEARTBEAT_MS = 5_000;
/** …and is taken for gone once the lock is this old. */
const STALE_AFTER_MS = 30_000;

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

const bootId = () => readText('/proc/sys/kernel/random/boot_id');

/** A process's start time from /proc/PID/stat (field 22, after the command in parentheses). */
function startTimeOf(pid: number): string | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function currentHolder(): Holder {
  const boot = bootId();
  const start = startTimeOf(process.pid);
  return {
    pid: process.pid,
    host: hostname(),
    ...(boot !== undefined ? { bootId: boot } : {}),
    ...(start !== undefined ? { startTime: start } : {}),
    since: new Date().toISOString(),
  };
}

/** Whether the holder of the lock file `path` may still run (when unsure: yes). */
function holderRuns(holder: Holder, path: string): boolean {
  if (holder.host !== hostname()) {
    // Another machine (or container) sharing the folder: its process cannot be seen from here, so
    // its heartbeat tells.
    try {
      return Date.now() - statSync(path).mtimeMs < STALE_AFTER_MS;
    } catch {
      return false;
    }
  }
  const boot = bootId();
  if (holder.bootId !== undefined && boot !== undefined && holder.bootId !== boot) return false;
  if (!pidExists(holder.pid)) return false;
  const start = startTimeOf(holder.pid);
  return holder.startTime === undefined || start === undefined || start === holder.startTime;
}

const LOCK_FILE = /^lock\.(\d+)$/;

/** The numbers of the lock files in `dir`, highest first. */
function lockNumbers(dir: string): number[] {
  return readdirSync(dir)
    .map((name) => LOCK_FILE.exec(name)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => b - a);
}

function readHolder(path: string): Holder | undefined {
  const text = readText(path);
  if (text === undefined) return undefined;
  try {
    return holderSchema.parse(JSON.parse(text));
  } catch {
    // Not written by this program (lock files are linked into place whole): nobody we know holds it.
    return { pid: 1, host: '', since: '' };
  }
}

/**
 * Takes the lock of a sync's state folder, or throws naming the process that holds it. The lock is
 * the highest-numbered file `lock.N`, each created whole and exclusively (written aside, then
 * hard-linked into place). A lock whose holder is gone is passed by creating `lock.N+1`, which only
 * one process can do; a process that finds a higher lock than its own after creating it backs off.
 * Older files are removed once their holders are gone. Returns the release function.
 */
export function takeLock(dir: string, syncName: string): () => void {
  const me = currentHolder();
  const aside = join(dir, `.lock-${process.pid}-${Date.now()}`);
  const fd = openSync(aside, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(me));
  } finally {
    closeSync(fd);
  }
  try {
    for (let attempt = 0; attempt < 100; attempt++) {
      const [highest] = lockNumbers(dir);
      let next = 1;
      if (highest !== undefined) {
        const path = join(dir, `lock.${highest}`);
        const holder = readHolder(path);
        if (holder === undefined) continue; // released meanwhile
        if (holderRuns(holder, path)) {
          throw new Error(
            `another run of sync "${syncName}" is in progress (process ${holder.pid} on ${holder.host || 'an unknown host'}, since ${holder.since || 'an unknown time'}); wait for it, or stop it first`,
          );
        }
        next = highest + 1;
      }
      const mine = join(dir, `lock.${next}`);
      try {
        linkSync(aside, mine);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw error;
      }
      if ((lockNumbers(dir)[0] ?? next) > next) {
        rmSync(mine, { force: true });
        continue;
      }
      for (const older of lockNumbers(dir).filter((n) => n < next)) {
        const path = join(dir, `lock.${older}`);
        const holder = readHolder(path);
        if (holder !== undefined && !holderRuns(holder, path)) rmSync(path, { force: true });
      }
      return holdLock(mine);
    }
    throw new Error(`cannot take the lock of sync "${syncName}" in ${dir}: it changes hands too often`);
  } finally {
    rmSync(aside, { force: true });
  }
}

/** Keeps the lock's heartbeat going until released. */
function holdLock(path: string): () => void {
  const timer = setInterval(() => {
    try {
      const now = new Date();
      utimesSync(path, now, now);
    } catch {
      // The folder went away: nothing left to hold.
    }
  }, HEARTBEAT_MS);
  timer.unref();
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    clearInterval(timer);
    rmSync(path, { force: true });
  };
}

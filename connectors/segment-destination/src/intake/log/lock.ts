import { readFile, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';

export interface Lock {
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One `collect` per data directory: the lock file names the owner's host and PID. A lock whose
 * process is gone on this host, or that names this very process (PID 1 again after a container
 * restart), is stale and taken over.
 */
export async function acquireLock(path: string): Promise<Lock> {
  const me = `${hostname()} ${process.pid}`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, me, { flag: 'wx', mode: 0o600 });
      return { release: () => unlink(path).catch(() => undefined) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = (await readFile(path, 'utf8').catch(() => '')).trim();
    const [host, pidText] = owner.split(' ');
    const pid = Number(pidText);
    if (host === hostname() && Number.isInteger(pid) && pid !== process.pid && alive(pid))
      throw new Error(
        `the data directory is in use by process ${pid} (${path}); give each collect its own --data-dir`,
      );
    if (host !== undefined && host !== hostname() && host !== '')
      throw new Error(
        `the data directory is locked by host ${host} (${path}); give each instance its own --data-dir, or delete the lock if that host is gone`,
      );
    await unlink(path).catch(() => undefined);
  }
  throw new Error(`could not lock the data directory (${path})`);
}

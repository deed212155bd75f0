import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { currentHolder, takeLock } from '../src/lock.js';
import { StateStore } from '../src/state.js';

const HOLDER = join(dirname(fileURLToPath(import.meta.url)), 'fakes', 'lock-holder.ts');
const folder = () => mkdtempSync(join(tmpdir(), 'wh-lock-'));
const lockFiles = (dir: string) => readdirSync(dir).filter((name) => name.startsWith('lock.'));

/** A lock file as another process would have left it. */
function leaveLock(dir: string, holder: Record<string, unknown>, number = 1): string {
  const path = join(dir, `lock.${number}`);
  writeFileSync(path, JSON.stringify({ since: '2026-01-01T00:00:00.000Z', ...holder }));
  return path;
}

/** Starts lock-holder.ts; resolves with its first line once it printed it. */
function holder(dir: string, holdMs: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', HOLDER, dir, String(holdMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const firstLine = new Promise<string>((resolve) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('\n')) resolve(out.split('\n')[0] as string);
    });
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return { child, firstLine, exited };
}

describe('the lock of a sync', () => {
  it('is taken and released, and a second take while it is held is refused naming the holder', () => {
    const dir = folder();
    const release = takeLock(dir, 'events');
    expect(() => takeLock(dir, 'events')).toThrow(
      new RegExp(`another run of sync "events" is in progress \\(process ${process.pid} on ${hostname()}`),
    );
    release();
    expect(lockFiles(dir)).toEqual([]);
    takeLock(dir, 'events')();
  });

  it('is never blocked by the lock of a process that is gone', async () => {
    const dir = folder();
    const gone = spawnSync(process.execPath, ['-e', 'process.pid']);
    leaveLock(dir, { ...currentHolder(), pid: gone.pid });
    const release = takeLock(dir, 'events');
    expect(lockFiles(dir)).toEqual(['lock.2']);
    release();
  });

  it('in a container: a lock left by PID 1 (or any PID now reused) with another start time is taken over', () => {
    const dir = folder();
    const me = currentHolder();
    // The sync was PID 1, was killed, and runs again as PID 1: the PID is alive, but it is another process.
    leaveLock(dir, { ...me, pid: 1, startTime: '1' });
    const release = takeLock(dir, 'events');
    release();
    leaveLock(dir, { ...me, startTime: String(Number(me.startTime) - 100) }, 5);
    takeLock(dir, 'events')();
  });

  it('a lock from an earlier boot is taken over, even when its PID is alive now', () => {
    const dir = folder();
    leaveLock(dir, { ...currentHolder(), bootId: '00000000-0000-0000-0000-000000000000' });
    takeLock(dir, 'events')();
  });

  it('a lock of another host holds while its heartbeat is fresh, and is taken over once it stops', () => {
    const dir = folder();
    const path = leaveLock(dir, { ...currentHolder(), host: 'other-host' });
    expect(() => takeLock(dir, 'events')).toThrow(/process \d+ on other-host/);
    const old = new Date(Date.now() - 60_000);
    utimesSync(path, old, old);
    takeLock(dir, 'events')();
  });

  it('a live holder in another process blocks; once it is killed, the lock is taken', async () => {
    const dir = folder();
    const held = holder(dir, 60_000);
    expect(await held.firstLine).toBe('locked');
    expect(() => new StateStore(dir).lock('events')).toThrow(
      new RegExp(`process ${held.child.pid} on ${hostname()}`),
    );
    held.child.kill('SIGKILL');
    await held.exited;
    const release = new StateStore(dir).lock('events');
    release();
  });

  it('never lets two runs hold it at once, even when many start together over a stale lock', async () => {
    const dir = folder();
    leaveLock(dir, { ...currentHolder(), pid: 1, startTime: '1' }, 3);
    // Each holds the lock it takes until killed, so however their starts spread, they overlap.
    const contenders = Array.from({ length: 8 }, () => holder(dir, 600_000));
    const lines = await Promise.all(contenders.map((c) => c.firstLine));
    for (const c of contenders) c.child.kill('SIGKILL');
    await Promise.all(contenders.map((c) => c.exited));
    expect(lines.filter((l) => l === 'locked')).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('blocked: another run'))).toHaveLength(7);
  }, 30_000);

  it('is created 0600', () => {
    const dir = folder();
    const release = takeLock(dir, 'events');
    expect(statSync(join(dir, 'lock.1')).mode & 0o777).toBe(0o600);
    release();
  });
});

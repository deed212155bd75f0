import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The program as users run it: the compiled build (rebuilt first when a source is newer). */
export const IDMERGE = join(REPO_ROOT, 'cli', 'bin', 'idmerge.mjs');
const PRELOAD = join(REPO_ROOT, 'bench', 'lib', 'peak-rss-preload.cjs');

/**
 * CPU seconds (user + system) a process has used so far, with those of its children it has reaped
 * (a PostgreSQL server's backends once their connections end), from /proc; undefined elsewhere.
 */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // Fields after the command's closing parenthesis: utime, stime, cutime, cstime are 14–17 of stat.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
    return Number.isFinite(ticks) ? ticks / 100 : undefined;
  } catch {
    return undefined;
  }
}

/** Starts `idmerge sandbox` in its own process; resolves with its URL, its PID and a stop function. */
export function startSandbox(
  args: string[],
): Promise<{ url: string; pid: number | undefined; stop: () => void }> {
  const child = spawn(process.execPath, [IDMERGE, 'sandbox', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`sandbox exited with ${code}`)));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const match = /listening on (\S+)/.exec(out);
      if (match) resolve({ url: match[1] as string, pid: child.pid, stop: () => child.kill('SIGTERM') });
    });
  });
}

export interface TimedRun {
  /** Wall seconds. */
  seconds: number;
  code: number | null;
  stdout: string;
  peakRssMb: number;
  /** CPU seconds of the process, all its threads. */
  cpuSeconds: number;
}

/** Runs a Node process with `nodeArgs` and the peak-RSS preload; returns wall and CPU time, exit code, stdout and peak RSS. */
export function timeProcess(nodeArgs: string[], env: NodeJS.ProcessEnv): Promise<TimedRun> {
  const rssFile = join(tmpdir(), `idmerge-rss-${process.pid}-${Date.now()}`);
  const cpuFile = `${rssFile}-cpu`;
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, ['--require', PRELOAD, ...nodeArgs], {
    env: { ...process.env, ...env, IDMERGE_PEAK_RSS_FILE: rssFile, IDMERGE_CPU_FILE: cpuFile },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  return new Promise((resolve) => {
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const peakRssMb = Number(readFileSync(rssFile, 'utf8')) / 1024;
      const cpuSeconds = Number(readFileSync(cpuFile, 'utf8')) / 1e6;
      rmSync(rssFile, { force: true });
      rmSync(cpuFile, { force: true });
      resolve({ seconds, code, stdout, peakRssMb, cpuSeconds });
    });
  });
}

/** Runs an `idmerge` command in its own process; returns wall time, exit code, stdout and peak RSS. */
export function timeIdmerge(
  args: string[],
  env: NodeJS.ProcessEnv,
  nodeFlags: string[] = [],
): Promise<TimedRun> {
  return timeProcess([...nodeFlags, IDMERGE, ...args], env);
}

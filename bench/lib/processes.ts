import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The program as users run it: the compiled build (rebuilt first when a source is newer). */
export const IDMERGE = join(REPO_ROOT, 'cli', 'bin', 'idmerge.mjs');
const PRELOAD = join(REPO_ROOT, 'bench', 'lib', 'peak-rss-preload.cjs');

/** Starts `idmerge sandbox` in its own process; resolves with its URL and a stop function. */
export function startSandbox(args: string[]): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, [IDMERGE, 'sandbox', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`sandbox exited with ${code}`)));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const match = /listening on (\S+)/.exec(out);
      if (match) resolve({ url: match[1] as string, stop: () => child.kill('SIGTERM') });
    });
  });
}

/** Runs a Node process with `nodeArgs` and the peak-RSS preload; returns wall time, exit code, stdout and peak RSS. */
export function timeProcess(
  nodeArgs: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ seconds: number; code: number | null; stdout: string; peakRssMb: number }> {
  const rssFile = join(tmpdir(), `idmerge-rss-${process.pid}-${Date.now()}`);
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, ['--require', PRELOAD, ...nodeArgs], {
    env: { ...process.env, ...env, IDMERGE_PEAK_RSS_FILE: rssFile },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  return new Promise((resolve) => {
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      resolve({ seconds, code, stdout, peakRssMb: Number(readFileSync(rssFile, 'utf8')) / 1024 });
    });
  });
}

/** Runs an `idmerge` command in its own process; returns wall time, exit code, stdout and peak RSS. */
export function timeIdmerge(
  args: string[],
  env: NodeJS.ProcessEnv,
  nodeFlags: string[] = [],
): Promise<{ seconds: number; code: number | null; stdout: string; peakRssMb: number }> {
  return timeProcess([...nodeFlags, IDMERGE, ...args], env);
}

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The program as users run it: the compiled build, rebuilt first when a source is newer. */
export const IDMERGE = join(REPO_ROOT, 'cli', 'bin', 'idmerge.mjs');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `idmerge` program in a child process, as a user would. */
export function runCli(
  args: string[],
  options: { input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [IDMERGE, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/**
 * Starts `idmerge sync --config config` and kills it with SIGKILL once its state file holds a
 * checkpoint past the first few pages (a primary key of 200 or more, as the tests' tables number
 * their rows), or after 30 s; resolves when the process is gone.
 */
export async function syncKilledAfterCheckpoints(
  config: string,
  stateFile: string,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  const child = spawn(process.execPath, [IDMERGE, 'sync', '--config', config], {
    cwd: REPO_ROOT,
    env,
    stdio: 'ignore',
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  for (let i = 0; i < 600; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (existsSync(stateFile) && /"key": "(1[0-9]{3}|[2-9][0-9]{2})"/.test(readFileSync(stateFile, 'utf8')))
      break;
  }
  child.kill('SIGKILL');
  await exited;
}

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IDMERGE, REPO_ROOT } from './run-cli.js';

export interface CollectProcess {
  url: string;
  child: ChildProcess;
  dataDir: string;
  /** stdout and stderr so far. */
  output(): string;
  /** SIGTERM; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL (a crash); resolves once the process is gone. */
  kill9(): Promise<void>;
  stats<T = CollectStatsBody>(): Promise<T>;
}

export interface CollectStatsBody {
  queue: { calls: number; bytes: number; oldestUndeliveredSeconds: number | null };
  accepted: number;
  delivered: number;
  deadLettered: number;
  refusedByReason: Record<string, number>;
  delivery: { stoppedBy: string | null };
}

export const tempDir = (name: string) => mkdtempSync(join(tmpdir(), `idmerge-${name}-`));

/** `idmerge collect --port 0 --data-dir …` as its own process (its PID is the server). */
export function startCollectProcess(
  args: string[],
  env: NodeJS.ProcessEnv,
  dataDir: string = tempDir('collect'),
): Promise<CollectProcess> {
  const child = spawn(process.execPath, [IDMERGE, 'collect', '--port', '0', '--data-dir', dataDir, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, MIXPANEL_REGION: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`collect did not start: ${output}`)), 30_000);
    const early = (code: number | null) => reject(new Error(`collect exited with ${code}: ${output}`));
    child.once('exit', early);
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (!match?.[1] || child.listenerCount('exit') === 0) return;
      clearTimeout(timer);
      child.off('exit', early);
      const url = match[1];
      const exited = new Promise<number | null>((done) =>
        child.exitCode !== null ? done(child.exitCode) : child.once('exit', (code) => done(code)),
      );
      resolve({
        url,
        child,
        dataDir,
        output: () => output,
        stop: () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          return exited;
        },
        kill9: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          await exited;
        },
        stats: async () => (await (await fetch(`${url}/stats`)).json()) as never,
      });
    });
  });
}

/** Polls `check` until it returns true, or fails after `ms` with `what`. */
export async function eventually(check: () => Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

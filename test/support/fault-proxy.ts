import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type ProxyMode = 'pass' | '401' | '403' | '503' | 'lost' | 'echo';

export interface FaultProxy {
  url: string;
  /** Passes `after` more requests, then answers every request with `mode`; passed ones wait `delayMs` first. */
  set(mode: ProxyMode, after?: number, delayMs?: number): Promise<void>;
  stats(): Promise<{ passed: number; faulted: number }>;
  stop(): Promise<void>;
}

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'fault-proxy.mjs');

/** Starts the fault proxy (fault-proxy.mjs) in front of `target` as its own process. */
export function startFaultProxy(target: string): Promise<FaultProxy> {
  const child = spawn(process.execPath, [SCRIPT, target], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`the fault proxy did not start: ${stderr}`)), 10_000);
    child.on('exit', (code) => reject(new Error(`the fault proxy exited with ${code}: ${stderr}`)));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
      if (match === null) return;
      clearTimeout(timer);
      const url = match[1] as string;
      resolve({
        url,
        async set(mode, after = 0, delayMs = 0) {
          await fetch(`${url}/_proxy/mode`, {
            method: 'POST',
            body: JSON.stringify({ mode, after, delayMs }),
          });
        },
        stats: async () => (await (await fetch(`${url}/_proxy/stats`)).json()) as never,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}

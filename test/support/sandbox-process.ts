import { spawn, type ChildProcess } from 'node:child_process';
import { IDMERGE, REPO_ROOT } from './run-cli.js';

export interface SandboxProcess {
  url: string;
  child: ChildProcess;
  /** What the sandbox wrote to stderr so far: one line per request. */
  stderr(): string;
  stop(): Promise<void>;
  json<T = unknown>(path: string): Promise<T>;
  ndjson<T = unknown>(path: string): Promise<T[]>;
}

/** Starts `idmerge sandbox --port 0 …` as its own process and waits for its URL. */
export function startSandboxProcess(args: string[]): Promise<SandboxProcess> {
  const child = spawn(process.execPath, [IDMERGE, 'sandbox', '--port', '0', ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`sandbox did not start: ${stderr}`)), 20_000);
    child.on('exit', (code) => reject(new Error(`sandbox exited with ${code}: ${stderr}`)));
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = /listening on (https?:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
      if (match === null) return;
      clearTimeout(timer);
      const url = match[1] as string;
      resolve({
        url,
        child,
        stderr: () => stderr,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
        json: async (path) => (await (await fetch(url + path)).json()) as never,
        ndjson: async (path) =>
          (await (await fetch(url + path)).text())
            .split('\n')
            .filter(Boolean)
            .map((line) => JSON.parse(line) as never),
      });
    });
  });
}

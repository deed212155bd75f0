import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/run-cli.js';
import { startSandboxProcess } from './support/sandbox-process.js';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("the README's sandbox example", () => {
  it('starts the program so that $! is the server: kill $! stops it and frees the port', async () => {
    const readme = readFileSync(`${REPO_ROOT}/README.md`, 'utf8');
    const block = /```sh\n(node cli\/bin\/idmerge\.mjs sandbox[^`]*)```/.exec(readme)?.[1];
    expect(block, 'the README shows starting the sandbox in the background').toBeDefined();
    const lines = (block as string).split('\n');
    const start = lines.find((l) => l.startsWith('node cli/bin/idmerge.mjs sandbox') && l.endsWith('&'));
    const wait = lines.find((l) => l.startsWith('until curl'));
    expect(lines).toContain('kill $!');
    const port = await freePort();
    const script = [
      (start as string).replaceAll('4000', String(port)),
      (wait as string).replaceAll('4000', String(port)),
      'echo "pid=$!"',
      'cat /proc/$!/cmdline | tr "\\0" " "; echo',
      'kill $!',
      'wait $!',
      'echo "exit=$?"',
    ].join('\n');
    const result = await new Promise<{ out: string; err: string }>((resolve, reject) => {
      const child = spawn('bash', ['-c', script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
      child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
      child.on('error', reject);
      child.on('close', () => resolve({ out, err }));
    });
    const pid = Number(/pid=(\d+)/.exec(result.out)?.[1]);
    // $! is node running the program, not a shell or a package manager in front of it.
    expect(result.out).toMatch(/node cli\/bin\/idmerge\.mjs sandbox/);
    expect(result.out).toMatch(/exit=0/);
    expect(result.err).toMatch(/SIGTERM, stopping/);
    expect(alive(pid)).toBe(false);
    await expect(fetch(`http://127.0.0.1:${port}/_sandbox/stats`)).rejects.toThrow();
  });
});

describe('stopping', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} lets a request in flight finish, then exits 0`, async () => {
      const sandbox = await startSandboxProcess(['--mode', 'simplified']);
      const url = new URL(`${sandbox.url}/track`);
      // A request whose body is still arriving when the signal comes.
      const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = request(
          url,
          { method: 'POST', headers: { 'Content-Type': 'application/json' } },
          (res) => {
            let text = '';
            res.setEncoding('utf8').on('data', (c: string) => (text += c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          },
        );
        req.on('error', reject);
        req.write('[{"event":"Late","properties":{"$device_id":"D1",');
        setTimeout(() => {
          sandbox.child.kill(signal);
          setTimeout(() => req.end('"$insert_id":"late-1"}}]'), 300);
        }, 200);
      });
      const exited = new Promise<number | null>((resolve) =>
        sandbox.child.once('exit', (code) => resolve(code)),
      );
      expect(await answer).toEqual({ status: 200, text: '1' });
      expect(await exited).toBe(0);
      expect(sandbox.stderr()).toMatch(new RegExp(`${signal}, stopping`));
      expect(sandbox.stderr()).toMatch(/ POST \/track 200 records=1 accepted=1 /);
    });
  }
});

describe('the body-size limit holds while the body arrives', () => {
  it('a 300 MB upload is refused with 413 and the server never holds it', async () => {
    const sandbox = await startSandboxProcess(['--mode', 'simplified', '--quiet']);
    try {
      const pid = sandbox.child.pid as number;
      const chunk = Buffer.alloc(4 << 20, 0x20);
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(`${sandbox.url}/import`, { method: 'POST' }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        let sent = 0;
        const pump = () => {
          while (sent < 300 << 20) {
            sent += chunk.length;
            if (!req.write(chunk)) return void req.once('drain', pump);
          }
          req.end();
        };
        pump();
      });
      expect(status).toBe(413);
      // Peak resident memory of the sandbox process over its life: far below the upload.
      const peakKb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
      expect(peakKb).toBeGreaterThan(0);
      expect(peakKb / 1024).toBeLessThan(200);
      expect(await sandbox.json('/_sandbox/stats')).toMatchObject({ requests_by_status: { '413': 1 } });
    } finally {
      await sandbox.stop();
    }
  });
});

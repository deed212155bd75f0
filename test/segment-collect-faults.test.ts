import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, startCollectProcess, tempDir, type CollectProcess } from './support/collect-process.js';
import { startSandboxProcess, type SandboxProcess } from './support/sandbox-process.js';

type Fault = 'none' | '401' | 'hang';

/**
 * Stands between collect and the sandbox: passes requests through, or answers 401 as Mixpanel
 * does for refused credentials, or takes requests and never answers (an outage).
 */
async function startProxy(
  target: string,
): Promise<{ url: string; fault: Fault; requests: number; close(): Promise<void> }> {
  const state = { fault: 'none' as Fault, requests: 0 };
  const server = http.createServer((request, response) => {
    state.requests++;
    if (state.fault === 'hang') return;
    if (state.fault === '401') {
      request.resume();
      response.writeHead(401, { 'Content-Type': 'application/json' });
      response.end('{"code":401,"error":"Invalid credentials","status":"Unauthorized"}');
      return;
    }
    const upstream = http.request(
      `${target}${request.url}`,
      { method: request.method, headers: request.headers },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on('error', () => response.destroy());
    request.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

const ENV = { MIXPANEL_PROJECT_TOKEN: 'tok', MIXPANEL_API_SECRET: 'mp-secret', SEGMENT_WRITE_KEY: 'wk' };
const AUTH = `Basic ${Buffer.from('wk:').toString('base64')}`;
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function sandboxProcess(): Promise<SandboxProcess> {
  const sandbox = await startSandboxProcess([
    '--mode',
    'simplified',
    '--project-token',
    'tok',
    '--api-secret',
    'mp-secret',
  ]);
  cleanup.push(() => sandbox.stop());
  return sandbox;
}

async function collectProcess(
  apiHost: string,
  args: string[] = [],
  dataDir?: string,
): Promise<CollectProcess> {
  const collect = await startCollectProcess(
    ['--mode', 'simplified', ...args],
    { ...ENV, MIXPANEL_API_HOST: apiHost },
    dataDir,
  );
  cleanup.push(() => collect.stop());
  return collect;
}

/** Posts `count` calls in batches of 15 as analytics-node does, some without messageId; returns the answers. */
async function sendCalls(url: string, prefix: string, count: number): Promise<number[]> {
  const statuses: number[] = [];
  const now = Date.now();
  const batches = Math.ceil(count / 15);
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < batches) {
        const b = next++;
        const batch = Array.from({ length: Math.min(15, count - b * 15) }, (_, i) => {
          const n = b * 15 + i;
          // Every fifth call has no messageId: collect gives it one, which must survive a restart.
          return {
            type: 'track',
            event: `${prefix}`,
            anonymousId: `d-${n}`,
            properties: { n },
            timestamp: new Date(now - n).toISOString(),
            ...(n % 5 === 0 ? {} : { messageId: `${prefix}-${n}` }),
          };
        });
        const response = await fetch(`${url}/v1/batch`, {
          method: 'POST',
          headers: { Authorization: AUTH },
          body: JSON.stringify({ batch }),
        });
        statuses.push(response.status);
      }
    }),
  );
  return statuses;
}

async function storedOf(sandbox: SandboxProcess, event: string): Promise<number[]> {
  const events = await sandbox.ndjson<{ event: string; properties: { n: number } }>('/_sandbox/events');
  return events.filter((e) => e.event === event).map((e) => e.properties.n);
}

describe('idmerge collect under crashes and Mixpanel faults (child processes)', () => {
  it('kill -9 right after the answers, then a restart: every answered call arrives, once', async () => {
    const sandbox = await sandboxProcess();
    // Delivery is held (requests hang) so that the kill finds the calls in the log, not delivered.
    const proxy = await startProxy(sandbox.url);
    cleanup.push(() => proxy.close());
    proxy.fault = 'hang';
    const dataDir = tempDir('collect-kill');
    const first = await collectProcess(proxy.url, [], dataDir);
    const statuses = await sendCalls(first.url, 'Killed', 3000);
    expect(statuses.every((s) => s === 200)).toBe(true);
    await first.kill9();
    proxy.fault = 'none';
    const second = await collectProcess(proxy.url, [], dataDir);
    expect(second.output()).toMatch(/holds 3000 undelivered calls/);
    await eventually(
      async () => (await storedOf(sandbox, 'Killed')).length >= 3000,
      '3000 calls in the sandbox',
      60_000,
    );
    await eventually(async () => (await second.stats()).queue.calls === 0, 'an empty queue');
    const stored = await storedOf(sandbox, 'Killed');
    expect(stored).toHaveLength(3000);
    expect(new Set(stored).size).toBe(3000);
    expect(await second.stop()).toBe(0);
  }, 120_000);

  it('a 401 from Mixpanel stops delivery, keeps every call, and delivery resumes by itself once the credentials work', async () => {
    const sandbox = await sandboxProcess();
    const proxy = await startProxy(sandbox.url);
    cleanup.push(() => proxy.close());
    proxy.fault = '401';
    const collect = await collectProcess(proxy.url);
    expect((await sendCalls(collect.url, 'Auth', 600)).every((s) => s === 200)).toBe(true);
    await eventually(
      async () => (await collect.stats()).delivery.stoppedBy !== null,
      'delivery stopped by the 401',
    );
    expect((await fetch(`${collect.url}/readyz`)).status).toBe(503);
    expect(collect.output()).toMatch(/"level":"error","message":"Mixpanel refused the credentials/);
    // Calls keep being accepted to disk meanwhile.
    expect((await sendCalls(collect.url, 'AuthDuring', 150)).every((s) => s === 200)).toBe(true);
    expect((await collect.stats()).deadLettered).toBe(0);
    proxy.fault = 'none';
    await eventually(
      async () =>
        (await storedOf(sandbox, 'Auth')).length === 600 &&
        (await storedOf(sandbox, 'AuthDuring')).length === 150,
      'every call after the recovery',
      60_000,
    );
    await eventually(async () => (await fetch(`${collect.url}/readyz`)).status === 200, 'ready again');
    const stats = await collect.stats();
    expect(stats.deadLettered).toBe(0);
    expect(stats.delivery.stoppedBy).toBeNull();
  }, 120_000);

  it('an unwritable dead-letter path is logged and retried: no crash, nothing lost, written once it can be', async () => {
    const sandbox = await sandboxProcess();
    const base = tempDir('collect-dlq');
    // A file where the dead-letter file's folder should be: every write fails (ENOTDIR).
    writeFileSync(join(base, 'blocked'), 'not a folder');
    const path = join(base, 'blocked', 'dead-letter.ndjson');
    const collect = await collectProcess(sandbox.url, ['--dead-letter', path]);
    const batch = [
      { type: 'track', event: 'Dlq', anonymousId: 'd-1', messageId: 'dlq-1', properties: { n: 1 } },
      { type: 'track', event: 'Dlq', anonymousId: 'd-2', messageId: 'dlq-2', timestamp: 1e20 },
      { type: 'track', event: 'Dlq', anonymousId: 'd-3', messageId: 'dlq-3', properties: { n: 3 } },
    ];
    const response = await fetch(`${collect.url}/v1/batch`, {
      method: 'POST',
      headers: { Authorization: AUTH },
      body: JSON.stringify({ batch }),
    });
    expect(response.status).toBe(200);
    await eventually(
      async () => /cannot write the dead-letter file/.test(collect.output()),
      'the error in the log',
    );
    expect((await storedOf(sandbox, 'Dlq')).sort()).toEqual([1, 3]);
    expect(collect.child.exitCode).toBeNull();
    expect((await fetch(`${collect.url}/healthz`)).status).toBe(200);
    // The call that waits for its dead-letter entry stays in the log.
    expect((await collect.stats()).queue.calls).toBeGreaterThan(0);
    rmSync(join(base, 'blocked'));
    mkdirSync(join(base, 'blocked'));
    await eventually(
      async () => {
        try {
          return readFileSync(path, 'utf8').includes('dlq-2');
        } catch {
          return false;
        }
      },
      'the dead-letter entry',
      30_000,
    );
    await eventually(async () => (await collect.stats()).queue.calls === 0, 'an empty queue');
    expect(await collect.stop()).toBe(0);
  }, 90_000);

  it('SIGTERM during an outage returns within 10 s and keeps the undelivered calls for the next start', async () => {
    const sandbox = await sandboxProcess();
    const proxy = await startProxy(sandbox.url);
    cleanup.push(() => proxy.close());
    proxy.fault = 'hang';
    const dataDir = tempDir('collect-term');
    const collect = await collectProcess(proxy.url, [], dataDir);
    expect((await sendCalls(collect.url, 'Term', 300)).every((s) => s === 200)).toBe(true);
    await eventually(async () => proxy.requests > 0, 'a delivery attempt');
    const started = Date.now();
    expect(await collect.stop()).toBe(0);
    // Well within the 10 s bound: nothing waits for the requests Mixpanel does not answer.
    expect(Date.now() - started).toBeLessThan(5000);
    proxy.fault = 'none';
    const again = await collectProcess(proxy.url, [], dataDir);
    await eventually(
      async () => (await storedOf(sandbox, 'Term')).length === 300,
      'the calls after the restart',
      60_000,
    );
    await again.stop();
  }, 90_000);
});

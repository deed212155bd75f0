import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startCollectProcess, type CollectProcess } from './support/collect-process.js';
import { startSandboxProcess, type SandboxProcess } from './support/sandbox-process.js';

const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
const AUTH = basic('new-key');

interface StoredEvent {
  event: string;
  properties: { $insert_id: string; [key: string]: unknown };
}

let sandbox: SandboxProcess;
let collect: CollectProcess;

beforeAll(async () => {
  sandbox = await startSandboxProcess([
    '--mode',
    'simplified',
    '--project-token',
    'tok',
    '--api-secret',
    'mp-secret',
  ]);
  collect = await startCollectProcess(['--mode', 'simplified'], {
    MIXPANEL_API_HOST: sandbox.url,
    MIXPANEL_PROJECT_TOKEN: 'tok',
    MIXPANEL_API_SECRET: 'mp-secret',
    // Two keys valid at once, as during a rotation.
    SEGMENT_WRITE_KEY: 'old-key,new-key',
  });
});
afterAll(async () => {
  await collect?.stop();
  await sandbox?.stop();
});

function call(id: string, extra: Record<string, unknown> = {}) {
  return {
    event: `E-${id}`,
    anonymousId: `d-${id}`,
    messageId: id,
    timestamp: new Date(Date.now() - 1000).toISOString(),
    ...extra,
  };
}

async function post(path: string, body: string | Buffer, headers: Record<string, string> = {}) {
  const response = await fetch(`${collect.url}${path}`, {
    method: 'POST',
    headers: { Authorization: AUTH, 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as { success: boolean; message?: string },
  };
}

async function storedIds(): Promise<string[]> {
  return (await sandbox.ndjson<StoredEvent>('/_sandbox/events')).map((e) => e.properties.$insert_id);
}

/** The dead-letter file's entries (none while it does not exist yet). */
function deadLetters(): Array<{ record: { messageId?: string }; reason: string; stage: string }> {
  let text: string;
  try {
    text = readFileSync(join(collect.dataDir, 'dead-letter.ndjson'), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { record: { messageId?: string }; reason: string; stage: string });
}

describe('idmerge collect: the Segment HTTP tracking API', () => {
  it('long and short paths, with and without /v1, JSON whatever the content type', async () => {
    const paths = [
      '/v1/track',
      '/v1/t',
      '/t',
      '/track/',
      '/v1/p',
      '/p',
      '/v1/s',
      '/v1/i',
      '/i',
      '/v1/a',
      '/v1/g',
      '/g',
    ];
    for (const [i, path] of paths.entries()) {
      const extra = path.includes('/i')
        ? { userId: `u-${i}` }
        : path.includes('/a')
          ? { userId: `u-${i}`, previousId: `d-path-${i}` }
          : path.includes('/g')
            ? { userId: `u-${i}`, groupId: 'g1' }
            : { name: 'Home' };
      const result = await post(path, JSON.stringify(call(`path-${i}`, extra)), {
        'Content-Type': 'text/plain',
      });
      expect(result, path).toMatchObject({ status: 200, body: { success: true } });
    }
    for (const path of ['/v1/b', '/b', '/v1/batch', '/v1/import', '/import']) {
      const id = `batch-${path.replaceAll('/', '')}`;
      const result = await post(path, JSON.stringify({ batch: [{ ...call(id), type: 'track' }] }), {
        'Content-Type': 'text/plain;charset=UTF-8',
      });
      expect(result.status, path).toBe(200);
    }
    await eventually(async () => {
      const ids = await storedIds();
      return [
        'path-0',
        'path-1',
        'path-2',
        'path-3',
        'batch-v1b',
        'batch-b',
        'batch-v1import',
        'batch-import',
      ].every((id) => ids.includes(id));
    }, 'the calls in the sandbox');
    expect((await post('/v1/nothing', '{}')).status).toBe(404);
  });

  it('reads gzip bodies', async () => {
    const result = await post('/v1/track', gzipSync(JSON.stringify(call('gzip-1'))), {
      'Content-Encoding': 'gzip',
    });
    expect(result.status).toBe(200);
    await eventually(async () => (await storedIds()).includes('gzip-1'), 'the gzip call');
  });

  it('answers preflights and puts CORS headers on every answer', async () => {
    const preflight = await fetch(`${collect.url}/v1/t`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'http://app.example',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization,content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('http://app.example');
    expect(preflight.headers.get('access-control-allow-methods')).toBe('POST, OPTIONS');
    expect(preflight.headers.get('access-control-allow-headers')).toBe('authorization,content-type');
    const answer = await post('/v1/t', JSON.stringify(call('cors-1')), { Origin: 'http://app.example' });
    expect(answer.headers.get('access-control-allow-origin')).toBe('http://app.example');
    const refused = await post('/v1/t', '{nope', { Origin: 'http://app.example' });
    expect(refused.headers.get('access-control-allow-origin')).toBe('http://app.example');
  });

  it('400 only for malformed JSON and payloads over the limits', async () => {
    expect(await post('/v1/track', '{not json')).toMatchObject({
      status: 400,
      body: { message: expect.stringMatching(/Invalid JSON/) },
    });
    const big = JSON.stringify(call('big', { properties: { blob: 'x'.repeat(33 * 1024) } }));
    expect(await post('/v1/track', big)).toMatchObject({
      status: 400,
      body: { message: expect.stringMatching(/Exceeded payload limit/) },
    });
    const many = Array.from({ length: 20 }, (_, i) => ({
      ...call(`many-${i}`, { properties: { blob: 'y'.repeat(30 * 1024) } }),
      type: 'track',
    }));
    expect(await post('/v1/batch', JSON.stringify({ batch: many }))).toMatchObject({
      status: 400,
      body: { message: expect.stringMatching(/500 KB/) },
    });
  });

  it('any of the valid write keys, as Basic auth or writeKey in the body; others get 401', async () => {
    expect(
      (await post('/v1/t', JSON.stringify(call('key-old')), { Authorization: basic('old-key') })).status,
    ).toBe(200);
    expect(
      (
        await post('/v1/t', JSON.stringify({ ...call('key-body'), writeKey: 'new-key' }), {
          Authorization: '',
        })
      ).status,
    ).toBe(200);
    expect(
      (await post('/v1/t', JSON.stringify(call('key-bad')), { Authorization: basic('wrong') })).status,
    ).toBe(401);
    expect((await post('/v1/t', JSON.stringify(call('key-none')), { Authorization: '' })).status).toBe(401);
  });

  it('a batch with poison calls is answered 200: the good calls are delivered, each poison call dead-lettered with its reason', async () => {
    const batch = [
      { ...call('poison-ok-1'), type: 'track' },
      { ...call('poison-time'), type: 'track', timestamp: 1e20 },
      { ...call('poison-deep'), type: 'track', properties: { deep: 'DEEP' } },
      { ...call('poison-surrogate'), type: 'track', properties: { name: 'x\ud800' } },
      { ...call('poison-unmappable'), type: 'track', anonymousId: null },
      { ...call('poison-type'), type: 'bogus' },
      { ...call('poison-ok-2'), type: 'track', writeKey: 'new-key' },
    ];
    // JSON.stringify cannot write a 15,000-deep array: it is spliced in as text.
    const text = JSON.stringify({ batch }).replace('"DEEP"', `${'['.repeat(15_000)}${']'.repeat(15_000)}`);
    expect(await post('/v1/batch', text)).toMatchObject({ status: 200, body: { success: true } });
    await eventually(async () => {
      const ids = await storedIds();
      return ids.includes('poison-ok-1') && ids.includes('poison-ok-2');
    }, 'the good calls');
    await eventually(
      async () => deadLetters().filter((e) => e.record.messageId?.startsWith('poison-')).length === 5,
      'five dead letters',
    );
    const reasons = Object.fromEntries(
      deadLetters()
        .filter((e) => e.record.messageId?.startsWith('poison-'))
        .map((e) => [e.record.messageId, e.reason]),
    );
    expect(reasons).toEqual({
      'poison-time': expect.stringMatching(/timestamp is not a valid time/),
      'poison-deep': expect.stringMatching(/nested deeper/),
      'poison-surrogate': expect.stringMatching(/lone UTF-16 surrogate/),
      'poison-unmappable': expect.stringMatching(/anonymousId|identity|user/i),
      'poison-type': expect.stringMatching(/type must be one of/),
    });
    const file = readFileSync(join(collect.dataDir, 'dead-letter.ndjson'), 'utf8');
    expect(file).not.toContain('new-key');
    expect(file).not.toContain(AUTH.slice(6, 14));
    expect(file).not.toContain('mp-secret');
    expect(statSync(join(collect.dataDir, 'dead-letter.ndjson')).mode & 0o777).toBe(0o600);
    const stats = await collect.stats();
    expect(stats.deadLettered).toBeGreaterThanOrEqual(5);
    expect(Object.keys(stats.refusedByReason).join()).toMatch(/timestamp is not a valid time/);
  });

  it('calls without messageId each get their own ID; a retried messageId stays one call', async () => {
    const second = new Date(Math.floor(Date.now() / 1000) * 1000 - 5000).toISOString();
    const same = { type: 'track', event: 'No ID', anonymousId: 'd-noid', timestamp: second };
    expect((await post('/v1/batch', JSON.stringify({ batch: [same, same, same] }))).status).toBe(200);
    const retried = { ...call('retried-1'), type: 'track' };
    expect((await post('/v1/batch', JSON.stringify({ batch: [retried] }))).status).toBe(200);
    expect((await post('/v1/batch', JSON.stringify({ batch: [retried] }))).status).toBe(200);
    await eventually(
      async () =>
        (await sandbox.ndjson<StoredEvent>('/_sandbox/events')).filter((e) => e.event === 'No ID').length ===
        3,
      'three calls without messageId',
    );
    await eventually(async () => (await collect.stats()).queue.calls === 0, 'an empty queue');
    const events = await sandbox.ndjson<StoredEvent>('/_sandbox/events');
    expect(new Set(events.filter((e) => e.event === 'No ID').map((e) => e.properties.$insert_id)).size).toBe(
      3,
    );
    expect(events.filter((e) => e.properties.$insert_id === 'retried-1')).toHaveLength(1);
  });

  it('health, readiness and stats', async () => {
    expect(await (await fetch(`${collect.url}/healthz`)).json()).toEqual({ ok: true });
    const ready = await fetch(`${collect.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, reasons: [] });
    const stats = await collect.stats();
    expect(stats).toMatchObject({
      queue: { calls: expect.any(Number), bytes: expect.any(Number) },
      accepted: expect.any(Number),
      delivered: expect.any(Number),
      deadLettered: expect.any(Number),
      refusedByReason: expect.any(Object),
      delivery: { stoppedBy: null },
    });
    expect(stats.accepted).toBeGreaterThan(10);
  });

  it('logs one line per request with its status, calls and reason; data files are 0600', async () => {
    await post(
      '/v1/batch',
      JSON.stringify({ batch: [{ ...call('log-1'), type: 'track' }, { type: 'bogus' }] }),
    );
    await eventually(
      async () =>
        /"path":"\/v1\/batch","status":200,"calls":2,"refused":1,.*"reason":"call 1: type must be one of/.test(
          collect.output(),
        ),
      'the request line',
    );
    const segment = join(collect.dataDir, 'log');
    for (const name of ['progress.json', 'lock'])
      expect(statSync(join(collect.dataDir, name)).mode & 0o777, name).toBe(0o600);
    expect(statSync(segment).mode & 0o777).toBe(0o700);
    expect(collect.output()).not.toContain('new-key');
  });
});

describe('idmerge collect at its queue cap', () => {
  it('answers 503 with Retry-After while the log holds --max-queue-bytes undelivered, and nothing of that request is kept', async () => {
    // Mixpanel cannot be reached (nothing listens there), so calls stay in the log.
    const full = await startCollectProcess(
      ['--mode', 'simplified', '--max-queue-bytes', String(1024 * 1024)],
      {
        MIXPANEL_API_HOST: 'http://127.0.0.1:9',
        MIXPANEL_PROJECT_TOKEN: 'tok',
        MIXPANEL_API_SECRET: 'mp-secret',
      },
    );
    try {
      const batch = (n: number) =>
        JSON.stringify({
          batch: Array.from({ length: 12 }, (_, i) => ({
            ...call(`cap-${n}-${i}`, { properties: { blob: 'z'.repeat(30_000) } }),
            type: 'track',
          })),
        });
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let n = 0; n < 4; n++) {
        const response = await fetch(`${full.url}/v1/batch`, { method: 'POST', body: batch(n) });
        statuses.push(response.status);
        if (response.status === 503) retryAfter = response.headers.get('retry-after');
      }
      expect(statuses.slice(0, 2)).toEqual([200, 200]);
      expect(statuses).toContain(503);
      expect(Number(retryAfter)).toBeGreaterThan(0);
      const stats = await full.stats();
      expect(stats.queue.bytes).toBeLessThanOrEqual(1024 * 1024);
      expect(stats.accepted).toBe(12 * statuses.filter((s) => s === 200).length);
      expect((await fetch(`${full.url}/readyz`)).status).toBe(503);
    } finally {
      await full.stop();
    }
  });
});

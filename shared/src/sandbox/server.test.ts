import { mkdtempSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { parseFaultSpec } from './faults.js';
import { startSandbox, type RunningSandbox, type SandboxOptions } from './server.js';

const SA = { username: 'sa', secret: 'shh', projectId: '7' };
const AUTH = `Basic ${Buffer.from('sa:shh').toString('base64')}`;
const running: RunningSandbox[] = [];

async function start(options: Partial<SandboxOptions> = {}): Promise<RunningSandbox> {
  const sandbox = await startSandbox({ port: 0, mode: 'simplified', serviceAccount: SA, ...options });
  running.push(sandbox);
  return sandbox;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

const ev = (i: number, props: Record<string, unknown> = {}) => ({
  event: 'E',
  properties: { time: 1763800000 + i, $insert_id: `i${i}`, $device_id: `D${i}`, ...props },
});

async function post(
  sandbox: RunningSandbox,
  path: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
) {
  const response = await fetch(sandbox.url + path, {
    method: 'POST',
    body: typeof body === 'string' ? body : new Uint8Array(body),
    headers: { Authorization: AUTH, ...headers },
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}
const stats = async (s: RunningSandbox) =>
  (await (await fetch(`${s.url}/_sandbox/stats`)).json()) as Record<string, number>;

describe('/import', () => {
  it('answers 401 with Mixpanel’s body on bad credentials and a wrong project_id', async () => {
    const s = await start();
    const bad = await post(s, '/import?project_id=7', '[]', { Authorization: 'Basic eDp5' });
    expect(bad).toMatchObject({ status: 401 });
    expect(JSON.parse(bad.text)).toEqual({ code: 401, error: 'Invalid credentials', status: 'Unauthorized' });
    expect((await post(s, '/import?project_id=8', '[]')).status).toBe(401);
    expect((await post(s, '/import?project_id=7', '[]')).status).toBe(200);
  });

  it('strict=1: a partial success lists each failed record by index and $insert_id', async () => {
    const s = await start();
    const body = JSON.stringify([ev(0), ev(1, { $device_id: 'null' }), ev(2)]);
    const reply = await post(s, '/import?strict=1&project_id=7', gzipSync(body), {
      'Content-Encoding': 'gzip',
    });
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.text)).toEqual({
      code: 400,
      error: 'some data points in the request failed validation',
      status: 'Bad Request',
      num_records_imported: 2,
      failed_records: [
        {
          index: 1,
          $insert_id: 'i1',
          field: 'properties.$device_id',
          message: expect.stringContaining('invalid IDs'),
        },
      ],
    });
    expect(await stats(s)).toMatchObject({ requests: 1, received: 3, accepted: 2, rejected: 1 });
  });

  it('reads NDJSON, deduplicates on (event, distinct_id, time, $insert_id)', async () => {
    const s = await start();
    const ndjson = [ev(0), ev(0), ev(1)].map((e) => JSON.stringify(e)).join('\n');
    expect(JSON.parse((await post(s, '/import?project_id=7', ndjson)).text)).toEqual({
      code: 200,
      num_records_imported: 3,
      status: 'OK',
    });
    expect(await stats(s)).toMatchObject({ received: 3, accepted: 2, duplicates: 1 });
  });

  it('answers 413 above 2000 events or 10 MB', async () => {
    const s = await start();
    const many = JSON.stringify(Array.from({ length: 2001 }, (_, i) => ev(i)));
    expect((await post(s, '/import?project_id=7', many)).status).toBe(413);
    const huge = JSON.stringify([ev(0, { blob: 'x'.repeat(10_100_000) })]);
    expect(
      (await post(s, '/import?project_id=7', gzipSync(huge), { 'Content-Encoding': 'gzip' })).status,
    ).toBe(413);
    expect((await stats(s)).accepted).toBe(0);
  });

  it('rejects identity events in Simplified strict mode and $merge on unauthenticated requests', async () => {
    const s = await start();
    const reply = await post(
      s,
      '/import?strict=1&project_id=7',
      JSON.stringify([
        { event: '$merge', properties: { time: 1763800000, $insert_id: 'm', $distinct_ids: ['a', 'b'] } },
      ]),
    );
    expect(JSON.parse(reply.text).failed_records[0].message).toMatch(/identity events are not allowed/);
    const open = await start({ mode: 'original', serviceAccount: undefined });
    const merge = await fetch(`${open.url}/import?strict=1`, {
      method: 'POST',
      body: JSON.stringify([
        { event: '$merge', properties: { time: 1763800000, $insert_id: 'm', $distinct_ids: ['a', 'b'] } },
      ]),
    });
    expect(
      ((await merge.json()) as { failed_records: Array<{ message: string }> }).failed_records[0]?.message,
    ).toMatch(/only on authenticated/);
  });
});

describe('/track, /engage, /groups', () => {
  it('checks the token in each record and answers 1/0 or verbose JSON', async () => {
    const s = await start({ projectToken: 'tok' });
    const form = (records: unknown[]) => `data=${encodeURIComponent(JSON.stringify(records))}`;
    const type = { 'Content-Type': 'application/x-www-form-urlencoded' };
    const now = Math.floor(Date.now() / 1000);
    expect((await post(s, '/track', form([ev(0, { token: 'tok', time: now })]), type)).text).toBe('1');
    expect((await post(s, '/track', form([ev(1, { token: 'nope', time: now })]), type)).text).toBe('0');
    const verbose = await post(
      s,
      '/engage?verbose=1',
      JSON.stringify([{ $token: 'tok', $distinct_id: 'U1', $set: { plan: 'pro' } }]),
    );
    expect(JSON.parse(verbose.text)).toEqual({ status: 1, error: null });
    const invalid = await post(
      s,
      '/engage?verbose=1',
      JSON.stringify([{ $token: 'tok', $distinct_id: 'U1', $add: { n: 'x' } }]),
    );
    expect(invalid.status).toBe(200);
    expect(JSON.parse(invalid.text)).toMatchObject({ status: 0, error: expect.stringContaining('$add') });
  });

  it('/track refuses events older than 5 days and requests of more than 2000 records', async () => {
    const s = await start({ projectToken: 'tok' });
    const form = (records: unknown[]) => `data=${encodeURIComponent(JSON.stringify(records))}`;
    const type = { 'Content-Type': 'application/x-www-form-urlencoded' };
    const sixDaysAgo = Math.floor(Date.now() / 1000) - 6 * 24 * 3600;
    const old = await post(s, '/track?verbose=1', form([ev(0, { token: 'tok', time: sixDaysAgo })]), type);
    expect(JSON.parse(old.text)).toMatchObject({ status: 0, error: expect.stringContaining('last 5 days') });
    const fourDaysAgo = sixDaysAgo + 2 * 24 * 3600;
    expect((await post(s, '/track', form([ev(1, { token: 'tok', time: fourDaysAgo })]), type)).text).toBe(
      '1',
    );
    const many = Array.from({ length: 2001 }, (_, i) => ({
      $token: 'tok',
      $distinct_id: `U${i}`,
      $set: { a: 1 },
    }));
    expect((await post(s, '/engage', JSON.stringify(many))).status).toBe(413);
    expect(await stats(s)).toMatchObject({ accepted: 1, rejected: 1 });
  });

  it('applies profile operations', async () => {
    const s = await start();
    const ops = [
      { $distinct_id: 'U1', $set: { plan: 'pro', n: 1 } },
      { $distinct_id: 'U1', $set_once: { plan: 'free', first: 'x' } },
      { $distinct_id: 'U1', $add: { n: 2 } },
      { $distinct_id: 'U1', $union: { tags: ['a', 'b'] } },
      { $distinct_id: 'U1', $union: { tags: ['b', 'c'] } },
      { $distinct_id: 'U1', $remove: { tags: 'a' } },
      { $distinct_id: 'U1', $append: { log: 1 } },
      { $distinct_id: 'U1', $unset: ['first'] },
      { $distinct_id: 'U2', $set: { a: 1 } },
      { $distinct_id: 'U2', $delete: '' },
    ];
    await post(s, '/engage', JSON.stringify(ops));
    await post(
      s,
      '/groups',
      JSON.stringify([{ $group_key: 'company_id', $group_id: 'acme', $set: { name: 'Acme' } }]),
    );
    expect(await (await fetch(`${s.url}/_sandbox/profiles`)).json()).toEqual({
      U1: { plan: 'pro', n: 3, tags: ['b', 'c'], log: [1] },
    });
    expect(await (await fetch(`${s.url}/_sandbox/groups`)).json()).toEqual({
      'company_id/acme': { name: 'Acme' },
    });
  });
});

describe('faults', () => {
  async function sequence(seed: number): Promise<string[]> {
    const s = await start({ faults: '429=0.3,500=0.2,503=0.1,reset=0.1', seed, retryAfterSeconds: 3 });
    const seen: string[] = [];
    for (let i = 0; i < 30; i++) {
      try {
        const r = await post(s, '/import?project_id=7', JSON.stringify([ev(i)]));
        seen.push(r.status === 429 ? `429:${r.headers.get('retry-after')}` : String(r.status));
      } catch {
        seen.push('reset');
      }
    }
    const st = await stats(s);
    expect(st.accepted).toBe(seen.filter((x) => x === '200').length);
    return seen;
  }

  it('are reproducible by seed, never ingest, and send Retry-After on 429', async () => {
    const a = await sequence(5);
    expect(await sequence(5)).toEqual(a);
    expect(await sequence(6)).not.toEqual(a);
    expect(a).toContain('429:3');
    expect(a).toContain('reset');
  });

  it('slow replies come after the client timeout and ingest nothing', async () => {
    const s = await start({ faults: 'slow=1', clientTimeoutMs: 300 });
    const began = Date.now();
    const r = await post(s, '/import?project_id=7', JSON.stringify([ev(0)]));
    expect(Date.now() - began).toBeGreaterThanOrEqual(290);
    expect(r.status).toBe(503);
    expect((await stats(s)).accepted).toBe(0);
  });

  it('refuses a malformed fault spec with the part that is wrong', () => {
    expect(() => parseFaultSpec('429=0.5,boom=0.1')).toThrow(/"boom=0.1" is not KIND=PROBABILITY/);
    expect(() => parseFaultSpec('429=2')).toThrow(/between 0 and 1/);
    expect(() => parseFaultSpec('429=0.6,500=0.6')).toThrow(/add up to 1.2/);
  });
});

describe('state', () => {
  it('keeps events and clusters across restarts with --data-dir', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sandbox-'));
    const first = await start({ dataDir });
    await post(
      first,
      '/import?project_id=7',
      JSON.stringify([ev(0), ev(1, { $device_id: 'D0', $user_id: 'U1' })]),
    );
    await post(first, '/engage', JSON.stringify([{ $distinct_id: 'U1', $set: { a: 1 } }]));
    const before = await (await fetch(`${first.url}/_sandbox/clusters`)).json();
    await first.close();
    const second = await start({ dataDir });
    expect(await (await fetch(`${second.url}/_sandbox/clusters`)).json()).toEqual(before);
    expect(before).toEqual({
      mode: 'simplified',
      clusters: [{ distinct_id: 'U1', members: ['$device:D0', 'U1'] }],
    });
    expect(await (await fetch(`${second.url}/_sandbox/profiles`)).json()).toEqual({ U1: { a: 1 } });
    const events = (await (await fetch(`${second.url}/_sandbox/events`)).text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events[0]).toMatchObject({
      ingested_distinct_id: '$device:D0',
      distinct_id: 'U1',
      properties: { $distinct_id_before_identity: '$device:D0' },
    });
  });

  it('still validates after a restart, and a reset empties the data directory too', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sandbox-'));
    const first = await start({ dataDir });
    await post(first, '/import?project_id=7', JSON.stringify([ev(0)]));
    await first.close();
    const second = await start({ dataDir });
    const r = await post(
      second,
      '/import?project_id=7&strict=1',
      JSON.stringify([ev(1, { $device_id: 'null' })]),
    );
    expect(r.status).toBe(400);
    expect(await stats(second)).toMatchObject({ accepted: 1, rejected: 1 });
    await post(second, '/_sandbox/reset', '');
    await post(second, '/import?project_id=7', JSON.stringify([ev(2)]));
    await second.close();
    const third = await start({ dataDir });
    const events = (await (await fetch(`${third.url}/_sandbox/events`)).text()).trim().split('\n');
    expect(
      events.map((l) => (JSON.parse(l) as { properties: { $insert_id: string } }).properties.$insert_id),
    ).toEqual(['i2']);
  });

  it("resets on POST /_sandbox/reset, with the project's credentials only", async () => {
    const s = await start({ projectToken: 'tok' });
    await post(s, '/import?project_id=7', JSON.stringify([ev(0)]));
    const anonymous = await fetch(`${s.url}/_sandbox/reset`, { method: 'POST' });
    expect(anonymous.status).toBe(401);
    expect((await stats(s)).accepted).toBe(1);
    expect((await post(s, '/_sandbox/reset', '')).status).toBe(200);
    expect((await stats(s)).accepted).toBe(0);
    await post(s, '/import?project_id=7', JSON.stringify([ev(0)]));
    const byToken = await post(s, '/_sandbox/reset', '', {
      Authorization: `Basic ${Buffer.from('tok:').toString('base64')}`,
    });
    expect(byToken.status).toBe(200);
    expect((await stats(s)).accepted).toBe(0);
  });

  it('lets anyone reset a sandbox started without credentials', async () => {
    const s = await startSandbox({ port: 0, mode: 'simplified' });
    running.push(s);
    expect((await fetch(`${s.url}/_sandbox/reset`, { method: 'POST' })).status).toBe(200);
  });
});

describe('sink mode', () => {
  it('counts records, unique insert IDs and records without one, storing nothing', async () => {
    const s = await start({ sink: true });
    await post(
      s,
      '/import?project_id=7',
      gzipSync(JSON.stringify([ev(0), ev(1), ev(1), { event: 'x', properties: {} }])),
      { 'Content-Encoding': 'gzip' },
    );
    expect(await stats(s)).toMatchObject({
      requests: 1,
      received: 4,
      accepted: 2,
      duplicates: 1,
      rejected: 1,
      invalid: 1,
    });
    expect((await fetch(`${s.url}/_sandbox/events`)).status).toBe(404);
  });

  it('reads a full gzipped batch whose JSON takes several gunzip steps', async () => {
    const s = await start({ sink: true });
    const events = Array.from({ length: 2000 }, (_, i) => ev(i, { note: `text ${'x'.repeat(200)} ${i}` }));
    const json = JSON.stringify(events);
    expect(json.length).toBeGreaterThan(2 * 256 * 1024);
    const reply = await post(s, '/import?project_id=7', gzipSync(json), { 'Content-Encoding': 'gzip' });
    expect(JSON.parse(reply.text)).toMatchObject({ num_records_imported: 2000 });
    expect(await stats(s)).toMatchObject({ received: 2000, accepted: 2000, duplicates: 0, rejected: 0 });
  });
});

describe('HTTPS', () => {
  it('serves the same API over TLS with the given certificate', async () => {
    const { generate } = await import('selfsigned');
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
      keySize: 2048,
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
    });
    const s = await start({ sink: true, tls: { cert: pems.cert, key: pems.private } });
    expect(s.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const body = gzipSync(JSON.stringify([ev(0), ev(1)]));
    const reply = await new Promise<{ status?: number; text: string; protocol: string }>(
      (resolve, reject) => {
        const request = httpsRequest(
          `${s.url}/import?project_id=7`,
          {
            method: 'POST',
            ca: pems.cert,
            headers: { Authorization: AUTH, 'Content-Encoding': 'gzip', 'Content-Type': 'application/json' },
          },
          (response) => {
            const protocol = (response.socket as TLSSocket).getProtocol() ?? '';
            let text = '';
            response.on('data', (chunk: Buffer) => (text += chunk.toString()));
            response.on('end', () => resolve({ status: response.statusCode, text, protocol }));
          },
        );
        request.on('error', reject);
        request.end(body);
      },
    );
    expect(reply.status).toBe(200);
    expect(reply.protocol).toMatch(/^TLSv1\.[23]$/);
    expect(JSON.parse(reply.text)).toMatchObject({ num_records_imported: 2 });
    // A client that does not trust the certificate is refused at the handshake.
    const refused = await new Promise<Error>((resolve) => {
      const request = httpsRequest(`${s.url}/_sandbox/stats`, () => resolve(new Error('answered')));
      request.on('error', resolve);
      request.end();
    });
    expect(refused.message).toMatch(/self-signed certificate/);
  });
});

import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type RunningSandbox, type SandboxOptions } from './server.js';

const TOKEN = 'tok';
const running: RunningSandbox[] = [];
const logs: string[] = [];

async function start(options: Partial<SandboxOptions> = {}): Promise<RunningSandbox> {
  const sandbox = await startSandbox({
    port: 0,
    mode: 'simplified',
    projectToken: TOKEN,
    log: (line) => logs.push(line),
    ...options,
  });
  running.push(sandbox);
  return sandbox;
}
afterEach(async () => {
  logs.length = 0;
  await Promise.all(running.splice(0).map((s) => s.close()));
});

const now = () => Math.floor(Date.now() / 1000);
const event = (props: Record<string, unknown> = {}, name = 'Viewed') => ({
  event: name,
  properties: {
    token: TOKEN,
    $device_id: 'D1',
    time: now(),
    $insert_id: `i${Math.random()}`.replace('.', ''),
    ...props,
  },
});
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64');
const form = (value: unknown, encode = b64) => `data=${encodeURIComponent(encode(value))}`;

async function call(s: RunningSandbox, path: string, init: RequestInit = {}) {
  const response = await fetch(s.url + path, init);
  return { status: response.status, headers: response.headers, text: await response.text() };
}
const get = async <T>(s: RunningSandbox, path: string) => (await (await fetch(s.url + path)).json()) as T;
const storedEvents = async (s: RunningSandbox) =>
  (await (await fetch(`${s.url}/_sandbox/events`)).text())
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { event: string; properties: Record<string, unknown> });

describe('the forms the Mixpanel libraries send to /track, /engage, /groups', () => {
  it('GET with data= in the query, base64 or JSON, with ip=, verbose= and a cache-buster', async () => {
    const s = await start();
    expect(await call(s, `/track?data=${encodeURIComponent(b64(event()))}&ip=0&verbose=0`)).toMatchObject({
      status: 200,
      text: '1',
    });
    const verbose = await call(
      s,
      `/track/?data=${encodeURIComponent(JSON.stringify(event()))}&ip=1&_=1764619000000&verbose=1`,
    );
    expect(JSON.parse(verbose.text)).toEqual({ status: 1, error: null });
    const engage = { $token: TOKEN, $distinct_id: 'U1', $set: { plan: 'pro' } };
    expect((await call(s, `/engage?data=${encodeURIComponent(b64(engage))}`)).text).toBe('1');
    const group = { $token: TOKEN, $group_key: 'company', $group_id: 'acme', $set: { size: 3 } };
    expect((await call(s, `/groups/?data=${encodeURIComponent(b64(group))}`)).text).toBe('1');
    expect(await get(s, '/_sandbox/profiles')).toEqual({ U1: { plan: 'pro' } });
    expect(await get(s, '/_sandbox/groups')).toEqual({ 'company/acme': { size: 3 } });
    expect((await storedEvents(s)).length).toBe(2);
  });

  it('POST bodies: form, text/plain (sendBeacon), JSON; one record or an array; with or without a slash', async () => {
    const s = await start();
    const bodies: Array<[string, string, string]> = [
      ['/track/?ip=1&_=1', 'application/x-www-form-urlencoded', form([event(), event()])],
      ['/track', 'application/x-www-form-urlencoded', form(event(), (v) => JSON.stringify(v))],
      ['/track/', 'text/plain;charset=UTF-8', form([event()])],
      ['/track', 'application/json', JSON.stringify([event()])],
      ['/track', 'application/json', JSON.stringify(event())],
    ];
    for (const [path, type, body] of bodies) {
      expect(await call(s, path, { method: 'POST', headers: { 'Content-Type': type }, body })).toMatchObject({
        status: 200,
        text: '1',
      });
    }
    expect((await storedEvents(s)).length).toBe(6);
  });

  it('a batch with an invalid record stores the valid ones and answers 0, naming the record', async () => {
    const s = await start();
    const batch = () => [event(), event({ token: 'other' }), event({ $device_id: 'null' })];
    const plain = await call(s, '/track', { method: 'POST', body: form(batch()) });
    expect(plain.text).toBe('0');
    const verbose = await call(s, '/track?verbose=1', { method: 'POST', body: form(batch()) });
    const answer = JSON.parse(verbose.text) as { status: number; error: string };
    expect(answer.status).toBe(0);
    expect(answer.error).toMatch(/record 1: properties.token: is missing or is not this project's token/);
    expect(answer.error).toMatch(/record 2: properties.\$device_id/);
    expect((await storedEvents(s)).length).toBe(2);
    expect(await get(s, '/_sandbox/stats')).toMatchObject({ received: 6, accepted: 2, rejected: 4 });
  });

  it('/track is not strict: time defaults to receipt, $insert_id is optional (no dedup), >5 days is refused', async () => {
    const s = await start();
    const bare = { event: 'Bare', properties: { token: TOKEN, $device_id: 'D9' } };
    const before = Date.now();
    expect((await call(s, '/track', { method: 'POST', body: form([bare, bare]) })).text).toBe('1');
    const stored = await storedEvents(s);
    expect(stored).toHaveLength(2);
    for (const e of stored) {
      expect(e.properties.$insert_id).toBeUndefined();
      expect(e.properties.time).toBeGreaterThanOrEqual(before);
      expect(e.properties.time).toBeLessThanOrEqual(Date.now());
    }
    const same = event({ $insert_id: 'same-1' });
    await call(s, '/track', { method: 'POST', body: form([same, same]) });
    expect(await storedEvents(s)).toHaveLength(3);
    const old = event({ time: now() - 6 * 24 * 3600 });
    const refused = await call(s, '/track?verbose=1', { method: 'POST', body: form(old) });
    expect(JSON.parse(refused.text)).toMatchObject({
      status: 0,
      error: expect.stringMatching(/last 5 days/),
    });
  });
});

describe('/import sent as the Node library sends it', () => {
  it('form body data= and GET ?data= are answered 1/0, or {status, error} with verbose=1', async () => {
    const s = await start({ apiSecret: 'secret' });
    const auth = { Authorization: `Basic ${Buffer.from('secret:').toString('base64')}` };
    const old = event({ time: now() - 30 * 24 * 3600 });
    delete (old.properties as Record<string, unknown>).$insert_id;
    const formPost = await call(s, '/import?ip=0&verbose=0', {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: form([old, event()]),
    });
    expect(formPost).toMatchObject({ status: 200, text: '1' });
    const viaGet = await call(s, `/import?data=${encodeURIComponent(b64(event()))}&ip=0&verbose=1`, {
      headers: auth,
    });
    expect(JSON.parse(viaGet.text)).toEqual({ status: 1, error: null });
    const bad = await call(s, '/import?verbose=1', {
      method: 'POST',
      headers: auth,
      body: form([event({ time: 'yesterday' })]),
    });
    expect(JSON.parse(bad.text)).toMatchObject({
      status: 0,
      error: expect.stringMatching(/properties.time/),
    });
    expect((await storedEvents(s)).length).toBe(3);
    // JSON bodies keep /import's own answer.
    const json = await call(s, '/import', { method: 'POST', headers: auth, body: JSON.stringify([event()]) });
    expect(JSON.parse(json.text)).toEqual({ code: 200, num_records_imported: 1, status: 'OK' });
  });
});

describe('CORS', () => {
  const origin = 'http://127.0.0.1:5555';
  it('every answer echoes the Origin and allows credentials; preflights are answered', async () => {
    const s = await start();
    const answers = [
      await call(s, '/track', { method: 'POST', headers: { Origin: origin }, body: form(event()) }),
      await call(s, '/nowhere', { headers: { Origin: origin } }),
      await call(s, '/import', { method: 'POST', headers: { Origin: origin }, body: '{bad' }),
      await call(s, '/track', { method: 'POST', headers: { Origin: origin }, body: '{bad' }),
      await call(s, '/_sandbox/stats', { headers: { Origin: origin } }),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 404, 401, 400, 200]);
    for (const a of answers) {
      expect(a.headers.get('access-control-allow-origin')).toBe(origin);
      expect(a.headers.get('access-control-allow-credentials')).toBe('true');
    }
    const preflight = await call(s, '/track/', {
      method: 'OPTIONS',
      headers: {
        Origin: origin,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type,x-custom',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toBe('GET, POST, OPTIONS');
    expect(preflight.headers.get('access-control-allow-headers')).toBe('content-type,x-custom');
    expect(preflight.headers.get('access-control-allow-origin')).toBe(origin);
  });
});

describe('faults', () => {
  it('400, 401, 403 and 413 answer with Mixpanel-shaped bodies and ingest nothing', async () => {
    for (const status of [400, 401, 403, 413]) {
      const s = await start({ faults: `${status}=1` });
      const reply = await call(s, '/track', { method: 'POST', body: form(event()) });
      expect(reply.status).toBe(status);
      expect(JSON.parse(reply.text)).toMatchObject({ code: status, error: expect.any(String) });
      expect(await get(s, '/_sandbox/stats')).toMatchObject({ received: 0, refused_requests: 1 });
    }
  });

  it('lost: the request is ingested, then the connection drops before the answer', async () => {
    const s = await start({ faults: 'lost=1' });
    await expect(fetch(`${s.url}/track`, { method: 'POST', body: form(event()) })).rejects.toThrow();
    expect(await get(s, '/_sandbox/stats')).toMatchObject({
      accepted: 1,
      requests: 1,
      refused_requests: 1,
      requests_by_status: { lost: 1 },
    });
    expect(logs.some((l) => / POST \/track lost records=1 accepted=1 /.test(l))).toBe(true);
  });
});

describe('limits, routing, counting and logging', () => {
  it('refuses a body over 10 MB with 413 while it arrives, and a declared one before', async () => {
    const s = await start({ projectToken: undefined });
    const big = Buffer.alloc(10_000_001, 0x20);
    const declared = await call(s, '/import', { method: 'POST', body: big });
    expect(declared.status).toBe(413);
    const bomb = gzipSync(Buffer.alloc(20_000_000, 0x20));
    const inflated = await call(s, '/import', {
      method: 'POST',
      headers: { 'Content-Encoding': 'gzip' },
      body: bomb,
    });
    expect(inflated.status).toBe(413);
    expect(JSON.parse(inflated.text).error).toMatch(/over 10000000 bytes/);
    const notGzip = await call(s, '/import', {
      method: 'POST',
      headers: { 'Content-Encoding': 'gzip' },
      body: 'x',
    });
    expect(notGzip.status).toBe(400);
  });

  it('a chunked upload without Content-Length is cut off at the limit too', async () => {
    const s = await start({ projectToken: undefined });
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${s.url}/import`, { method: 'POST' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      const chunk = Buffer.alloc(1 << 20, 0x20);
      for (let i = 0; i < 12; i++) req.write(chunk);
      req.end();
    });
    expect(status).toBe(413);
  });

  it('counts and logs every request, refused ones too, and never logs a query string or header', async () => {
    const s = await start({ serviceAccount: { username: 'sa', secret: 'hush', projectId: '7' } });
    await call(s, '/nowhere');
    await call(s, '/track', { method: 'PUT' });
    await call(s, '/import?project_id=7&api_key=hush', {
      method: 'POST',
      headers: { Authorization: `Basic ${Buffer.from('sa:wrong').toString('base64')}` },
      body: '[]',
    });
    await call(s, `/track?data=${encodeURIComponent(b64(event()))}`);
    await call(s, '/track', { method: 'OPTIONS', headers: { Origin: 'http://127.0.0.1:1' } });
    const stats = await get<Record<string, unknown>>(s, '/_sandbox/stats');
    expect(stats).toMatchObject({
      requests: 5,
      refused_requests: 3,
      preflights: 1,
      requests_by_status: { '200': 1, '204': 1, '401': 1, '404': 1, '405': 1 },
    });
    expect(logs).toHaveLength(6);
    expect(logs[1]).toMatch(/ PUT \/track 405 /);
    expect(logs[2]).toMatch(/ POST \/import 401 .*reason="Invalid credentials"/);
    expect(logs[3]).toMatch(/ GET \/track 200 records=1 accepted=1 /);
    expect(logs.join('\n')).not.toMatch(/hush|data=|api_key|Basic/);
  });

  it('answers 405 with Allow for a method an endpoint does not take', async () => {
    const s = await start();
    const reply = await call(s, '/_sandbox/reset');
    expect(reply.status).toBe(405);
    expect(reply.headers.get('allow')).toBe('POST, OPTIONS');
  });
});

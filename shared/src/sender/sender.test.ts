import { createServer } from 'node:http';
import { gunzipSync } from 'node:zlib';
import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { fullCollection } from '../memory/index.js';
import type { Payload } from '../payload/index.js';
import { backoffDelay, retryAfterMs, SPEC_BACKOFF } from './backoff.js';
import { loadMixpanelConfig } from './config.js';
import { createDeadLetterList } from './dead-letter-file.js';
import { createSender, type SenderOptions } from './sender.js';

const SA = {
  MIXPANEL_SERVICE_ACCOUNT_USERNAME: 'sa.user',
  MIXPANEL_SERVICE_ACCOUNT_SECRET: 'sa-secret-value-123',
  MIXPANEL_PROJECT_ID: '4242',
  MIXPANEL_PROJECT_TOKEN: 'token-value-456',
};

function event(i: number): Payload {
  return {
    endpoint: 'import',
    body: { event: 'E', properties: { time: 1763800000, $insert_id: `id-${i}`, distinct_id: `U${i}` } },
  };
}

/** The JSON body of a request: nock hands over gzip bodies decoded when they are JSON, else as hex. */
function body(raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  return JSON.parse(gunzipSync(Buffer.from(raw, 'hex')).toString('utf8'));
}

function setup(env: Record<string, string> = SA, options: SenderOptions = {}) {
  const deadLetter = createDeadLetterList();
  const waits: number[] = [];
  const sender = createSender(loadMixpanelConfig(env), {
    deadLetter,
    random: () => 0.5,
    sleep: async (ms) => {
      waits.push(ms);
    },
    ...options,
  });
  return { sender, deadLetter, waits };
}

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterEach(() => {
  expect(nock.pendingMocks()).toEqual([]);
  nock.cleanAll();
});

describe('requests', () => {
  it('sends /import gzipped with strict=1, project_id and service-account Basic auth', async () => {
    let received: unknown;
    nock('https://api.mixpanel.com', {
      reqheaders: {
        authorization: `Basic ${Buffer.from('sa.user:sa-secret-value-123').toString('base64')}`,
        'content-encoding': 'gzip',
        'content-type': 'application/json',
      },
    })
      .post('/import')
      .query({ strict: '1', project_id: '4242' })
      .reply(200, (_uri, requestBody) => {
        received = body(requestBody as string);
        return { code: 200, num_records_imported: 3, status: 'OK' };
      });
    const { sender } = setup();
    for (let i = 0; i < 3; i++) await sender.send(event(i));
    const report = await sender.flush();
    expect(received).toEqual([0, 1, 2].map((i) => event(i).body));
    expect(report).toMatchObject({ recordsIn: 3, delivered: 3, deadLettered: 0, requests: 1 });
    expect(report.bytesGzip).toBeGreaterThan(0);
  });

  it('sends /import as plain JSON when gzip is off, with the same headers otherwise', async () => {
    let received: unknown;
    let encoding: unknown = 'unset';
    nock('https://api.mixpanel.com', { reqheaders: { 'content-type': 'application/json' } })
      .post('/import')
      .query(true)
      .reply(200, function (_uri, requestBody) {
        encoding = this.req.headers['content-encoding'];
        received = requestBody;
        return { code: 200, num_records_imported: 2, status: 'OK' };
      });
    const { sender } = setup(SA, { gzip: false });
    for (let i = 0; i < 2; i++) await sender.send(event(i));
    expect(await sender.flush()).toMatchObject({ delivered: 2, bytesGzip: 0 });
    expect(encoding).toBeUndefined();
    expect(received).toEqual([event(0).body, event(1).body]);
  });

  it.each([
    ['eu', 'https://api-eu.mixpanel.com'],
    ['in', 'https://api-in.mixpanel.com'],
  ])('sends to the %s region', async (region, host) => {
    nock(host).post('/import').query(true).reply(200, { code: 200, num_records_imported: 1, status: 'OK' });
    const { sender } = setup({ ...SA, MIXPANEL_REGION: region });
    await sender.send(event(1));
    expect((await sender.flush()).delivered).toBe(1);
  });

  it.each([
    [{ MIXPANEL_API_SECRET: 'api-secret-789' }, 'api-secret-789:'],
    [{ MIXPANEL_PROJECT_TOKEN: 'token-value-456' }, 'token-value-456:'],
  ])('authenticates /import with %j and no project_id', async (env, user) => {
    nock('https://api.mixpanel.com', {
      reqheaders: { authorization: `Basic ${Buffer.from(user).toString('base64')}` },
    })
      .post('/import')
      .query({ strict: '1' })
      .reply(200, { code: 200, num_records_imported: 1, status: 'OK' });
    const { sender } = setup(env);
    await sender.send(event(1));
    expect((await sender.flush()).delivered).toBe(1);
  });

  it('sends /track as form data with the token in each event, and /engage as JSON with $token', async () => {
    let track: unknown;
    let engage: unknown;
    nock('https://api.mixpanel.com')
      .post('/track', (b: Record<string, string>) => ((track = JSON.parse(b.data ?? 'null')), true))
      .query({ verbose: '1' })
      .reply(200, { status: 1, error: null })
      .post('/engage', (b: unknown) => ((engage = b), true))
      .query({ verbose: '1' })
      .reply(200, { status: 0, error: "'$set' must be a dictionary" });
    const { sender, deadLetter } = setup();
    await sender.send({
      endpoint: 'track',
      body: { event: '$identify', properties: { time: 1, $insert_id: 'a', distinct_id: 'U1' } },
    });
    await sender.send({ endpoint: 'engage', body: { $distinct_id: 'U1', $set: { a: 1 } } });
    const report = await sender.flush();
    expect(track).toEqual([
      {
        event: '$identify',
        properties: { time: 1, $insert_id: 'a', distinct_id: 'U1', token: 'token-value-456' },
      },
    ]);
    expect(engage).toEqual([{ $distinct_id: 'U1', $set: { a: 1 }, $token: 'token-value-456' }]);
    expect(report).toMatchObject({ delivered: 1, deadLettered: 1 });
    expect(deadLetter.entries[0]).toMatchObject({ stage: 'mixpanel', reason: "'$set' must be a dictionary" });
  });

  it('batches by count and by bytes', async () => {
    const sizes: number[] = [];
    nock('https://api.mixpanel.com')
      .post('/import')
      .query(true)
      .times(3)
      .reply(200, (_u, b) => {
        sizes.push((body(b as string) as unknown[]).length);
        return { code: 200, status: 'OK' };
      });
    const { sender } = setup(SA, { batchSize: 4, concurrency: 1 });
    for (let i = 0; i < 10; i++) await sender.send(event(i));
    await sender.flush();
    expect(sizes).toEqual([4, 4, 2]);

    const bySize: number[] = [];
    nock('https://api.mixpanel.com')
      .post('/import')
      .query(true)
      .times(2)
      .reply(200, (_u, b) => {
        bySize.push((body(b as string) as unknown[]).length);
        return { code: 200, status: 'OK' };
      });
    const small = setup(SA, { maxBatchBytes: 250, concurrency: 1 });
    for (let i = 0; i < 4; i++) await small.sender.send(event(i));
    await small.sender.flush();
    expect(bySize).toEqual([2, 2]);
  });

  it('makes the caller wait while two batches are still being compressed', async () => {
    nock('https://api.mixpanel.com').post('/import').query(true).times(3).reply(200, { code: 200 });
    const { sender } = setup(SA, { batchSize: 1 });
    expect(sender.send(event(1))).toBeUndefined(); // one batch compressing: go on
    const wait = sender.send(event(2)); // two: wait for one of them
    expect(wait).toBeInstanceOf(Promise);
    await wait;
    expect(sender.send(event(3))).toBeInstanceOf(Promise);
    expect(await sender.flush()).toMatchObject({ delivered: 3, requests: 3 });
  });

  it('drain delivers what is buffered and keeps the sender usable', async () => {
    nock('https://api.mixpanel.com')
      .post('/import')
      .query(true)
      .times(2)
      .reply(200, { code: 200, status: 'OK' });
    const { sender } = setup();
    await sender.send(event(1));
    await sender.drain();
    expect(sender.report).toMatchObject({ delivered: 1, requests: 1 });
    await sender.send(event(2));
    expect(await sender.flush()).toMatchObject({ delivered: 2, requests: 2 });
  });

  it('never puts a record larger than the limits on the wire', async () => {
    const { sender, deadLetter } = setup(SA, { maxBatchBytes: 200 });
    const big: Payload = {
      endpoint: 'import',
      body: { event: 'E', properties: { time: 1, $insert_id: 'x', distinct_id: 'U', blob: 'x'.repeat(500) } },
    };
    await sender.send(big);
    const report = await sender.flush();
    expect(report).toMatchObject({ recordsIn: 1, deadLettered: 1, requests: 0 });
    expect(deadLetter.entries[0]).toMatchObject({
      stage: 'validation',
      reason: expect.stringMatching(/bytes as JSON/),
    });
  });
});

describe('replies', () => {
  it.each([
    [
      'index and $insert_id',
      (i: number) => ({ index: i, $insert_id: `id-${i}`, field: 'properties.time', message: 'bad time' }),
    ],
    [
      '$insert_id only',
      (i: number) => ({ $insert_id: `id-${i}`, field: 'properties.time', message: 'bad time' }),
    ],
    [
      'insert_id only',
      (i: number) => ({ insert_id: `id-${i}`, field: 'properties.time', message: 'bad time' }),
    ],
    ['a plain string', (i: number) => `id-${i}`],
  ])(
    '400 partial success (%s): exactly the named record is dead-lettered, the rest count as delivered, nothing is resent',
    async (_label, item) => {
      for (let failed = 0; failed < 3; failed++) {
        nock('https://api.mixpanel.com')
          .post('/import')
          .query(true)
          .reply(400, {
            code: 400,
            error: 'some data points in the request failed validation',
            status: 'Bad Request',
            num_records_imported: 2,
            failed_records: [item(failed)],
          });
        const { sender, deadLetter } = setup();
        const undelivered: unknown[] = [];
        sender.onUndelivered((original) => undelivered.push(original));
        for (let i = 0; i < 3; i++) await sender.send(event(i));
        const report = await sender.flush();
        expect(report).toMatchObject({ recordsIn: 3, delivered: 2, deadLettered: 1, requests: 1 });
        expect(deadLetter.entries).toEqual([
          expect.objectContaining({ stage: 'mixpanel', record: event(failed).body }),
        ]);
        expect(undelivered).toEqual([event(failed).body]);
      }
    },
  );

  it('counts failures the reply does not tie to a record apart, never as delivered', async () => {
    nock('https://api.mixpanel.com')
      .post('/import')
      .query(true)
      .reply(400, {
        code: 400,
        num_records_imported: 2,
        failed_records: [{ field: 'event', message: 'bad' }],
      });
    const { sender, deadLetter } = setup();
    const uncertain: unknown[] = [];
    sender.onUndelivered((original) => uncertain.push(original));
    for (let i = 0; i < 3; i++) await sender.send(event(i), { row: i });
    const report = await sender.flush();
    expect(report).toMatchObject({ recordsIn: 3, delivered: 2, deadLettered: 0, unattributedFailures: 1 });
    expect(deadLetter.entries).toEqual([]);
    // Which one failed is unknown, so every record of the request is reported as uncertain.
    expect(uncertain).toEqual([{ row: 0 }, { row: 1 }, { row: 2 }]);
  });

  it('401 stops at once; what was delivered stays delivered, everything else is reported unsent; no secret anywhere', async () => {
    nock('https://api.mixpanel.com')
      .post('/import')
      .query(true)
      .reply(200, { code: 200, status: 'OK' })
      .post('/import')
      .query(true)
      .reply(401, { code: 401, error: 'Invalid credentials sa-secret-value-123', status: 'Unauthorized' });
    const { sender, deadLetter } = setup(SA, { batchSize: 2, concurrency: 1 });
    for (let i = 0; i < 6; i++) await sender.send(event(i));
    const report = await sender.flush();
    expect(report.delivered).toBe(2);
    expect(report.delivered + report.deadLettered).toBe(6);
    expect(report.unsent).toBe(4);
    expect(report.stoppedBecause).toMatch(/refused the credentials \(HTTP 401\)/);
    const everything = JSON.stringify({ report, entries: deadLetter.entries });
    for (const secret of Object.values(SA).slice(1)) {
      if (secret !== '4242') expect(everything).not.toContain(secret);
    }
  });

  it('413 splits the batch and resends the halves', async () => {
    const sizes: number[] = [];
    nock('https://api.mixpanel.com')
      .post('/import')
      .query(true)
      .reply(413, 'too large')
      .post('/import')
      .query(true)
      .times(2)
      .reply(200, (_u, b) => {
        sizes.push((body(b as string) as unknown[]).length);
        return { code: 200, status: 'OK' };
      });
    const { sender } = setup();
    for (let i = 0; i < 4; i++) await sender.send(event(i));
    const report = await sender.flush();
    expect(sizes).toEqual([2, 2]);
    expect(report.delivered).toBe(4);
  });

  it('429 honours Retry-After, falls back to backoff, and does not use the failure budget', async () => {
    nock('https://api.mixpanel.com')
      .post('/import')
      .query(true)
      .reply(
        429,
        { code: 429, error: 'Project exceeded rate limits.', status: 'Too Many Requests' },
        { 'Retry-After': '7' },
      )
      .post('/import')
      .query(true)
      .times(2)
      .reply(429, { code: 429, status: 'Too Many Requests' })
      .post('/import')
      .query(true)
      .reply(200, { code: 200, status: 'OK' });
    const { sender, waits } = setup(SA, { maxRetries: 0 });
    await sender.send(event(1));
    const report = await sender.flush();
    expect(report).toMatchObject({ delivered: 1, rateLimitedWaits: 3, retriedRequests: 0 });
    expect(waits).toEqual([7000, 2000 + 3000, 4000 + 3000]);
  });

  it('retries 5xx, timeouts and resets, then dead-letters the batch whole with the last error', async () => {
    nock('https://api.mixpanel.com')
      .post('/import')
      .query(true)
      .reply(503, 'unavailable')
      .post('/import')
      .query(true)
      .replyWithError('socket hang up')
      .post('/import')
      .query(true)
      .reply(504, 'gateway timeout')
      .post('/import')
      .query(true)
      .reply(502, 'bad gateway');
    const { sender, deadLetter, waits } = setup(SA, { maxRetries: 3 });
    await sender.send(event(1));
    await sender.send(event(2));
    const report = await sender.flush();
    expect(report).toMatchObject({ delivered: 0, deadLettered: 2, retriedRequests: 3, requests: 4 });
    expect(deadLetter.entries[0]).toMatchObject({
      stage: 'exhausted',
      reason: expect.stringMatching(/after 3 retries: HTTP 502/),
    });
    expect(waits).toEqual([5000, 7000, 11000]);
  });

  it('retries resend the same body, and dead-letter entries rebuilt from it carry each record and what it came from', async () => {
    const bodies: unknown[] = [];
    nock('https://api.mixpanel.com')
      .post('/import', (raw: unknown) => bodies.push(raw) > 0)
      .query(true)
      .times(3)
      .reply(503, 'unavailable');
    const { sender, deadLetter } = setup(SA, { maxRetries: 2 });
    const rows = [{ id: 'row-1' }, undefined, { id: 'row-3' }];
    rows.forEach((row, i) => sender.sendImportJson(JSON.stringify(event(i).body), row));
    const report = await sender.flush();
    expect(report).toMatchObject({ requests: 3, deadLettered: 3, delivered: 0 });
    expect(new Set(bodies.map((raw) => JSON.stringify(raw))).size).toBe(1);
    expect(body(bodies[0])).toEqual([event(0).body, event(1).body, event(2).body]);
    expect(deadLetter.entries.map((entry) => [entry.record, entry.payload])).toEqual([
      [{ id: 'row-1' }, event(0).body],
      [event(1).body, event(1).body],
      [{ id: 'row-3' }, event(2).body],
    ]);
  });

  it('puts text outside ASCII on the wire as UTF-8, byte for byte', async () => {
    const bodies: unknown[] = [];
    nock('https://api.mixpanel.com')
      .post('/import', (raw: unknown) => bodies.push(raw) > 0)
      .query(true)
      .reply(200, { code: 200, num_records_imported: 2 });
    const { sender } = setup();
    const accented = {
      event: 'Café ✓',
      properties: { time: 1763800000, $insert_id: 'u-1', note: '日本語 😀' },
    };
    sender.sendImportJson(JSON.stringify(accented));
    sender.sendImportJson(JSON.stringify(event(2).body));
    const report = await sender.flush();
    expect(report).toMatchObject({ delivered: 2 });
    expect(body(bodies[0])).toEqual([accented, event(2).body]);
  });

  it('5xx then success delivers once', async () => {
    nock('https://api.mixpanel.com')
      .post('/import')
      .query(true)
      .reply(500, 'oops')
      .post('/import')
      .query(true)
      .reply(200, { code: 200 });
    const { sender } = setup();
    await sender.send(event(1));
    expect(await sender.flush()).toMatchObject({ delivered: 1, retriedRequests: 1 });
  });
});

describe('backoff', () => {
  it('doubles from 2 s to 60 s with 1–5 s jitter', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((n) => backoffDelay(SPEC_BACKOFF, n, () => 0))).toEqual([
      3000, 5000, 9000, 17000, 33000, 61000, 61000,
    ]);
    expect(backoffDelay(SPEC_BACKOFF, 0, () => 0.999999)).toBeCloseTo(7000, -1);
  });

  it('reads Retry-After as seconds or a date', () => {
    expect(retryAfterMs('3', 0)).toBe(3000);
    expect(retryAfterMs(new Date(60_000).toUTCString(), 0)).toBe(60_000);
    expect(retryAfterMs(undefined, 0)).toBeUndefined();
  });

  it('waits in real time with fake timers between retries', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      nock('https://api.mixpanel.com')
        .post('/import')
        .query(true)
        .reply(503)
        .post('/import')
        .query(true)
        .reply(200, { code: 200 });
      const sender = createSender(loadMixpanelConfig(SA), { random: () => 0 });
      await sender.send(event(1));
      const done = sender.flush();
      while (sender.report.retriedRequests === 0) await new Promise((resolve) => setImmediate(resolve));
      await vi.advanceTimersByTimeAsync(2999);
      expect(sender.report.delivered).toBe(0);
      await vi.advanceTimersByTimeAsync(2);
      await done;
      expect(sender.report.delivered).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('a real local server', () => {
  it('gives up on a server that never answers, after the per-request timeout and the retries', async () => {
    const server = createServer(() => {
      // never answers
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const { sender, deadLetter } = setup(
        { ...SA, MIXPANEL_API_HOST: `http://127.0.0.1:${port}` },
        { timeoutMs: 100, maxRetries: 1 },
      );
      await sender.send(event(1));
      expect(await sender.flush()).toMatchObject({
        delivered: 0,
        deadLettered: 1,
        retriedRequests: 1,
        requests: 2,
      });
      expect(deadLetter.entries[0]?.reason).toMatch(/timeout: no answer within 100 ms/);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('holds compressed bodies, not the records, while requests wait for answers', async () => {
    const held: Array<() => void> = [];
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => held.push(() => res.end('{"code":200}')));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const { sender } = setup({ ...SA, MIXPANEL_API_HOST: `http://127.0.0.1:${port}` }, { batchSize: 100 });
      fullCollection();
      const before = process.memoryUsage().heapUsed;
      // 20 batches of 100 records of ~10 KB (2 MB of text a batch; repetitive, so it compresses to
      // little): 10 in flight, held by the server, and 10 waiting for a connection.
      const filler = 'x'.repeat(10_000);
      let i = 0;
      for (; i < 2000; i++) {
        const wait = sender.send({
          endpoint: 'import',
          body: {
            event: 'E',
            properties: { time: 1763800000, $insert_id: `id-${i}`, note: `${i}${filler}` },
          },
        });
        if (wait !== undefined) await wait;
      }
      await vi.waitFor(() => expect(held).toHaveLength(10));
      fullCollection();
      const heldBytes = process.memoryUsage().heapUsed - before;
      expect(heldBytes).toBeLessThan(8 * 1024 * 1024); // the records' text alone is ~40 MB
      const flushed = sender.flush();
      await vi.waitFor(() => {
        held.splice(0).forEach((answer) => answer());
        expect(sender.report.delivered).toBe(2000);
      });
      expect(await flushed).toMatchObject({ delivered: 2000, requests: 20 });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('delivers over plain HTTP to MIXPANEL_API_HOST', async () => {
    const received: unknown[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push(...(JSON.parse(gunzipSync(Buffer.concat(chunks)).toString()) as unknown[]));
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"code":200,"status":"OK"}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const { sender } = setup({ ...SA, MIXPANEL_API_HOST: `http://127.0.0.1:${port}` });
      for (let i = 0; i < 5; i++) await sender.send(event(i));
      expect((await sender.flush()).delivered).toBe(5);
      expect(received).toHaveLength(5);
    } finally {
      server.close();
    }
  });
});

describe('sendImportJson (events serialized elsewhere)', () => {
  it('sends the text as it is, batched with other events', async () => {
    let received: unknown;
    nock('https://api.mixpanel.com')
      .post('/import')
      .query(true)
      .reply(200, (_uri, requestBody) => {
        received = body(requestBody as string);
        return { code: 200, num_records_imported: 2, status: 'OK' };
      });
    const { sender } = setup();
    await sender.send(event(0));
    await sender.sendImportJson(JSON.stringify(event(1).body), { id: 1 });
    const report = await sender.flush();
    expect(received).toEqual([event(0).body, event(1).body]);
    expect(report).toMatchObject({ recordsIn: 2, delivered: 2, requests: 1 });
  });

  it('dead-letters a record too large for a request with its payload and what it came from', async () => {
    const { sender, deadLetter } = setup(SA, { maxBatchBytes: 100 });
    const json = JSON.stringify({ event: 'E', properties: { note: 'x'.repeat(200) } });
    await sender.sendImportJson(json, { id: 7 });
    const report = await sender.flush();
    expect(report).toMatchObject({ recordsIn: 1, delivered: 0, deadLettered: 1, requests: 0 });
    expect(deadLetter.entries[0]).toMatchObject({
      record: { id: 7 },
      payload: JSON.parse(json) as unknown,
      stage: 'validation',
    });
  });

  it('after a 401 stop, counts what comes next as unsent', async () => {
    nock('https://api.mixpanel.com').post('/import').query(true).reply(401, { error: 'bad auth' });
    const { sender, deadLetter } = setup(SA, { batchSize: 1 });
    await sender.sendImportJson(JSON.stringify(event(0).body), { id: 0 });
    await sender.drain().catch(() => {});
    await sender.sendImportJson(JSON.stringify(event(1).body), { id: 1 });
    const report = await sender.flush().catch(() => sender.report);
    expect(report).toMatchObject({ recordsIn: 2, delivered: 0, deadLettered: 2, unsent: 2 });
    expect(deadLetter.entries.map((entry) => entry.record)).toEqual([{ id: 0 }, { id: 1 }]);
  });
});

describe('settled (checkpoints that follow delivery)', () => {
  /** A local /import endpoint that holds every reply until `release()`; counts what it received. */
  async function heldServer() {
    const held: Array<() => void> = [];
    let received = 0;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received += (JSON.parse(gunzipSync(Buffer.concat(chunks)).toString()) as unknown[]).length;
        held.push(() => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"code":200}'));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    return {
      host: `http://127.0.0.1:${port}`,
      received: () => received,
      held: () => held.length,
      release: () => held.splice(0).forEach((reply) => reply()),
      close: () => server.close(),
    };
  }
  const until = async (condition: () => boolean) => {
    while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
  };

  it('resolves only once the records handed in before it are delivered, without sending early or blocking more sends', async () => {
    const server = await heldServer();
    try {
      const { sender } = setup({ ...SA, MIXPANEL_API_HOST: server.host }, { batchSize: 2 });
      for (let i = 0; i < 4; i++) await sender.send(event(i)); // two full batches, in flight
      let firstSettled = false;
      const first = sender.settled().then(() => (firstSettled = true));
      await sender.send(event(4)); // a part-filled batch: not sent by settled()
      await until(() => server.held() === 2);
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(firstSettled).toBe(false);
      expect(server.received()).toBe(4);

      let secondSettled = false;
      const second = sender.settled().then(() => (secondSettled = true));
      server.release();
      await first;
      expect(sender.report.delivered).toBe(4);
      // The second waits on record 4, still in its part-filled batch, until a drain sends it.
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(secondSettled).toBe(false);
      const drained = sender.drain();
      await until(() => server.held() === 1);
      server.release();
      await Promise.all([drained, second]);
      expect(sender.report.delivered).toBe(5);
      await sender.flush();
    } finally {
      server.close();
    }
  });

  it('counts dead-lettered records as settled', async () => {
    const { sender, deadLetter } = setup(
      { ...SA, MIXPANEL_API_HOST: 'http://127.0.0.1:9' },
      { batchSize: 2, maxRetries: 0 },
    );
    for (let i = 0; i < 2; i++) await sender.send(event(i));
    await sender.settled();
    expect(deadLetter.entries).toHaveLength(2);
    expect((await sender.flush()).deadLettered).toBe(2);
  });

  it('throws what broke a delivery instead of swallowing it', async () => {
    const { sender } = setup(SA, {
      batchSize: 1,
      transport: {
        post: async () => {
          throw new TypeError('a bug in a transport');
        },
        close: () => {},
      },
    });
    await sender.send(event(1));
    await expect(sender.settled()).rejects.toThrow('a bug in a transport');
    await expect(sender.flush()).rejects.toThrow('a bug in a transport');
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadMixpanelConfig } from './config.js';
import { replaceLookupTable } from './lookup-table.js';

// Mixpanel's cloud is the one edge these tests cannot reach: nock answers as its reference page
// says (PUT /lookup-tables/{id}?project_id=…, service-account Basic auth, text/csv).
const CSV = 'id,name\r\na,"Alpha, Inc."\r\n';
const SA = {
  MIXPANEL_SERVICE_ACCOUNT_USERNAME: 'sync.bot',
  MIXPANEL_SERVICE_ACCOUNT_SECRET: 'very-secret',
  MIXPANEL_PROJECT_ID: '31337',
};
const BASIC = `Basic ${Buffer.from('sync.bot:very-secret').toString('base64')}`;

function upload() {
  const file = join(mkdtempSync(join(tmpdir(), 'lookup-')), 'table.csv');
  writeFileSync(file, CSV);
  return { tableId: 'songs 1', file, bytes: Buffer.byteLength(CSV) };
}
const quick = {
  retry: { backoff: { initialMs: 1, maxMs: 2, jitterMinMs: 0, jitterMaxMs: 1 } },
  sleep: async () => {},
};

beforeAll(() => nock.disableNetConnect());
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll(); // first, so one failing test leaves nothing behind for the next
  expect(pending).toEqual([]);
});
afterAll(() => nock.enableNetConnect());

describe('replaceLookupTable against the Mixpanel cloud', () => {
  it.each([
    ['eu', 'https://api-eu.mixpanel.com'],
    ['in', 'https://api-in.mixpanel.com'],
    ['us', 'https://api.mixpanel.com'],
  ])(
    'goes to the project region %s host with the service account and the CSV as it is',
    async (region, host) => {
      const config = loadMixpanelConfig({ ...SA, MIXPANEL_REGION: region });
      let seen: { body?: string; headers?: Record<string, string | string[] | undefined> } = {};
      nock(host)
        .put('/lookup-tables/songs%201')
        .query({ project_id: '31337' })
        .reply(function (_uri, body) {
          seen = { body: String(body), headers: this.req.headers };
          return [200, { code: 200, status: 'OK' }];
        });
      const outcome = await replaceLookupTable(config, upload());
      expect(outcome).toEqual({ ok: true, requests: 1 });
      expect(seen.body).toBe(CSV);
      expect(seen.headers?.authorization).toBe(BASIC);
      expect(seen.headers?.['content-type']).toBe('text/csv');
      expect(seen.headers?.['content-length']).toBe(String(Buffer.byteLength(CSV)));
    },
  );

  it('refuses credentials that are not a service account before sending anything', async () => {
    const config = loadMixpanelConfig({ MIXPANEL_API_SECRET: 'legacy' });
    await expect(replaceLookupTable(config, upload())).rejects.toThrow(
      /lookup tables take a service account/,
    );
  });

  it('reads a 400 as Mixpanel words it: nothing replaced, the rows it names', async () => {
    const config = loadMixpanelConfig(SA);
    nock('https://api.mixpanel.com')
      .put('/lookup-tables/songs%201')
      .query(true)
      .reply(400, {
        error: 'some data points in the request failed validation',
        failed_records: [{ index: 2, message: 'invalid row: row indexes 1 and 2 have the same primary key' }],
        status: 0,
      });
    const outcome = await replaceLookupTable(config, upload(), quick);
    expect(outcome).toMatchObject({
      ok: false,
      cause: 'refused',
      status: 400,
      failedRows: [{ index: 2, message: 'invalid row: row indexes 1 and 2 have the same primary key' }],
      requests: 1,
    });
    expect(outcome.ok === false && outcome.reason).toMatch(/row 2: invalid row: row indexes 1 and 2/);
  });

  it('retries a 503 with backoff, waits out a 429 by its Retry-After, then succeeds', async () => {
    const config = loadMixpanelConfig(SA);
    const waits: number[] = [];
    nock('https://api.mixpanel.com')
      .put('/lookup-tables/songs%201')
      .query(true)
      .reply(503, 'unavailable')
      .put('/lookup-tables/songs%201')
      .query(true)
      .reply(
        429,
        {
          code: 429,
          error: 'Project exceeded rate limits. Please retry the request with exponential backoff.',
          status: 'Too Many Requests',
        },
        { 'Retry-After': '7' },
      )
      .put('/lookup-tables/songs%201')
      .query(true)
      .reply(200, { code: 200, status: 'OK' });
    const outcome = await replaceLookupTable(config, upload(), {
      ...quick,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    expect(outcome).toEqual({ ok: true, requests: 3 });
    expect(waits[1]).toBe(7000);
  });

  it('a 401 stops at once, and no reason holds the secret', async () => {
    const config = loadMixpanelConfig(SA);
    nock('https://api.mixpanel.com')
      .put('/lookup-tables/songs%201')
      .query(true)
      .reply(401, { code: 401, error: 'Invalid credentials', status: 'Unauthorized' });
    const outcome = await replaceLookupTable(config, upload(), quick);
    expect(outcome).toMatchObject({ ok: false, cause: 'failed', status: 401, requests: 1 });
    expect(JSON.stringify(outcome)).not.toMatch(/very-secret/);
    expect(outcome.ok === false && outcome.reason).toMatch(/service account/);
  });

  it('a 413 is final: the table is too large for Mixpanel', async () => {
    const config = loadMixpanelConfig(SA);
    nock('https://api.mixpanel.com').put('/lookup-tables/songs%201').query(true).reply(413, 'too large');
    const outcome = await replaceLookupTable(config, upload(), quick);
    expect(outcome).toMatchObject({ ok: false, cause: 'refused', status: 413, requests: 1 });
    expect(outcome.ok === false && outcome.reason).toMatch(/over 100 MB/);
  });
});

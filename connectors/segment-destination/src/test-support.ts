import { gunzipSync } from 'node:zlib';
import nock from 'nock';
import { afterEach, beforeAll, expect } from 'vitest';
import { createTestIntegration } from './actions-core.js';
import { destination } from './destination.js';
import type { Settings } from './settings.js';

export const SIMPLIFIED: Settings = {
  project_token: 'tok123',
  id_merge_api: 'simplified',
  region: 'us',
  service_account_username: 'sa.user',
  service_account_secret: 'sa-secret',
  project_id: '4242',
  strict_mode: true,
};
export const ORIGINAL: Settings = { ...SIMPLIFIED, id_merge_api: 'original', region: 'eu' };

export const HOSTS = {
  us: 'https://api.mixpanel.com',
  eu: 'https://api-eu.mixpanel.com',
  in: 'https://api-in.mixpanel.com',
};

/** A moment every test call happened at. */
export const T = '2026-11-20T10:00:00.000Z';
export const ANON_UUID = '2f1d9f3e-6b7a-4c1e-9d2a-0b5c8e7f6a31';

/** No real network in a test file; every interception set up is used, and none outlives its test. */
export function useNock(): void {
  beforeAll(() => {
    nock.disableNetConnect();
  });
  afterEach(() => {
    expect(nock.pendingMocks()).toEqual([]);
    nock.cleanAll();
  });
}

/** The destination as Segment's test harness runs it. */
export const testDestination = () => createTestIntegration(destination);

export interface Captured {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  gzip: boolean;
  body: unknown;
}

/** Decodes a body as nock hands it over: gzip arrives hex-encoded, plain JSON as parsed or text. */
function decode(raw: unknown, gzip: boolean): unknown {
  if (gzip && typeof raw === 'string')
    return JSON.parse(gunzipSync(Buffer.from(raw, 'hex')).toString('utf8'));
  if (typeof raw === 'string') return JSON.parse(raw);
  return raw;
}

/**
 * Intercepts `POST host/endpoint` once per call of `reply`; `reply` sees the decoded body and
 * returns the status and answer Mixpanel would give.
 */
export function intercept(
  host: string,
  endpoint: 'import' | 'engage' | 'groups',
  captured: Captured[],
  reply: (body: unknown) => [number, unknown] = () =>
    endpoint === 'import'
      ? [200, { code: 200, status: 'OK', num_records_imported: 1 }]
      : [200, { status: 1, error: null }],
  times = 1,
): void {
  nock(host)
    .post(`/${endpoint}`)
    .query(true)
    .times(times)
    .reply(function (uri, raw) {
      const gzip = this.req.headers['content-encoding'] === 'gzip';
      const body = decode(raw, gzip);
      captured.push({ path: uri, headers: this.req.headers, gzip, body });
      return reply(body);
    });
}

export function events(captured: Captured[]): Array<{ event: string; properties: Record<string, unknown> }> {
  return captured
    .filter((c) => c.path.startsWith('/import'))
    .flatMap((c) => c.body as Array<{ event: string; properties: Record<string, unknown> }>);
}

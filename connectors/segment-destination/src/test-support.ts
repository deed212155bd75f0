import { gunzipSync } from 'node:zlib';
import nock from 'nock';
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

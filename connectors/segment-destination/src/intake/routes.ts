import type { IncomingMessage } from 'node:http';

export type CallKind = 'track' | 'identify' | 'page' | 'screen' | 'alias' | 'group' | 'batch';

const KINDS: Record<string, CallKind> = {
  track: 'track',
  t: 'track',
  identify: 'identify',
  i: 'identify',
  page: 'page',
  p: 'page',
  screen: 'screen',
  s: 'screen',
  alias: 'alias',
  a: 'alias',
  group: 'group',
  g: 'group',
  batch: 'batch',
  b: 'batch',
  import: 'batch',
};

export type Route = { kind: CallKind } | { probe: 'healthz' | 'readyz' | 'stats' } | { unknown: string };

/**
 * The route of a request path: Segment's long and short call paths (`/v1/track`, `/v1/t`, …,
 * `/v1/batch`, `/v1/b`, `/v1/import`), each with or without the `/v1` prefix (a browser's
 * `apiHost` may leave it out) and with or without a trailing slash; and the operator endpoints.
 */
export function routeOf(url: string | undefined): Route {
  const path = (url ?? '/').split('?')[0] ?? '/';
  const parts = path.split('/').filter(Boolean);
  if (parts[0] === 'v1') parts.shift();
  const [name, ...rest] = parts;
  if (name === undefined || rest.length > 0) return { unknown: path };
  if (name === 'healthz' || name === 'readyz' || name === 'stats') return { probe: name };
  const kind = KINDS[name];
  return kind === undefined ? { unknown: path } : { kind };
}

/**
 * CORS for browsers (analytics.js sends `Authorization`, so it preflights): every answer allows
 * the request's origin; preflights also get the methods and the headers they asked for.
 */
export function corsHeaders(request: IncomingMessage, preflight: boolean): Record<string, string> {
  const origin = request.headers.origin;
  const headers: Record<string, string> = {
    'Access-Control-Allow-Origin': origin ?? '*',
    Vary: 'Origin',
  };
  if (origin !== undefined) headers['Access-Control-Allow-Credentials'] = 'true';
  if (preflight) {
    headers['Access-Control-Allow-Methods'] = 'POST, OPTIONS';
    headers['Access-Control-Allow-Headers'] =
      request.headers['access-control-request-headers'] ?? 'authorization, content-type';
    headers['Access-Control-Max-Age'] = '600';
  }
  return headers;
}

import type { IncomingMessage } from 'node:http';
import type { Answer } from './answer.js';

/**
 * CORS headers for every answer. Browser SDKs send with credentials (cookies), so a `*` origin is
 * not enough: the request's own Origin is echoed and credentials are allowed. Without an Origin
 * (not a browser) there is nothing to allow; `*` keeps simple tools happy.
 */
export function corsHeaders(req: IncomingMessage): Record<string, string> {
  const origin = req.headers.origin;
  if (origin === undefined) return { 'Access-Control-Allow-Origin': '*' };
  return {
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Allow-Credentials': 'true',
    'Access-Control-Expose-Headers': 'Retry-After',
    Vary: 'Origin',
  };
}

/** The answer to an `OPTIONS` preflight, on any path: the real request then gets its own answer. */
export function preflightAnswer(req: IncomingMessage): Answer {
  const asked = req.headers['access-control-request-headers'];
  return {
    status: 204,
    body: '',
    contentType: 'text/plain; charset=utf-8',
    headers: {
      'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
      ...(asked !== undefined ? { 'Access-Control-Allow-Headers': asked } : {}),
      'Access-Control-Max-Age': '86400',
    },
  };
}

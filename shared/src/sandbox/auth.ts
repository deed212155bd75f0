import type { IncomingMessage } from 'node:http';
import { timingSafeEqual } from 'node:crypto';

/** The project's credentials the sandbox checks; none configured means every caller is let in. */
export interface ProjectCredentials {
  projectToken?: string;
  serviceAccount?: { username: string; secret: string; projectId: string };
  apiSecret?: string;
}

export interface AuthResult {
  ok: boolean;
  /** The request carried valid credentials (`$merge` needs that even when none are configured). */
  authenticated: boolean;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function basicCredentials(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization ?? '';
  return /^basic /i.test(header) ? Buffer.from(header.slice(6).trim(), 'base64').toString('utf8') : undefined;
}

/**
 * `/import` authentication as Mixpanel does it: a service account (`user:secret` plus its
 * `?project_id=`), the project API secret (`secret:`) or the project token (`token:`), all HTTP Basic.
 */
export function projectAuth(req: IncomingMessage, url: URL, credentials: ProjectCredentials): AuthResult {
  const decoded = basicCredentials(req);
  const { serviceAccount: sa, apiSecret, projectToken } = credentials;
  if (sa === undefined && apiSecret === undefined && projectToken === undefined) {
    return { ok: true, authenticated: decoded !== undefined };
  }
  if (decoded === undefined) return { ok: false, authenticated: false };
  if (sa && same(decoded, `${sa.username}:${sa.secret}`)) {
    return { ok: url.searchParams.get('project_id') === sa.projectId, authenticated: true };
  }
  if ((apiSecret && same(decoded, `${apiSecret}:`)) || (projectToken && same(decoded, `${projectToken}:`))) {
    return { ok: true, authenticated: true };
  }
  return { ok: false, authenticated: false };
}

/**
 * The sandbox's control endpoints that change state (`POST /_sandbox/reset`) take the same
 * credentials; a service account needs no project_id here.
 */
export function controlAuth(req: IncomingMessage, credentials: ProjectCredentials): boolean {
  const sa = credentials.serviceAccount;
  const probe = new URL('http://sandbox/');
  if (sa) probe.searchParams.set('project_id', sa.projectId);
  return projectAuth(req, probe, credentials).ok;
}

/**
 * Endpoints that take only a service account (lookup tables): its `user:secret` and `?project_id=`.
 * With no credentials configured every caller is let in, as on the other endpoints.
 */
export function serviceAccountAuth(req: IncomingMessage, url: URL, credentials: ProjectCredentials): boolean {
  const { serviceAccount: sa, apiSecret, projectToken } = credentials;
  if (sa === undefined && apiSecret === undefined && projectToken === undefined) return true;
  const decoded = basicCredentials(req);
  if (sa === undefined || decoded === undefined) return false;
  return same(decoded, `${sa.username}:${sa.secret}`) && url.searchParams.get('project_id') === sa.projectId;
}

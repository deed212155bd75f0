import type { ConnectionOptions } from 'node:tls';
import type pg from 'pg';
import { z } from 'zod';
import { loadPostgresDriver } from './postgres-driver.js';
import type { PostgresSql } from './postgres-sql.js';
import type { PostgresSourceOptions, SslMode } from './postgres-settings.js';
import { typeParsers } from './postgres-values.js';

const serverErrorSchema = z.object({
  message: z.string(),
  code: z.string().optional(),
  detail: z.string().optional(),
  hint: z.string().optional(),
});

/** The server's (or the network's) message with its SQLSTATE or error code, its detail and hint. */
export function describePostgresError(error: unknown): string {
  const parsed = serverErrorSchema.safeParse(error);
  if (!parsed.success) return error instanceof Error ? error.message : String(error);
  const { message, code, detail, hint } = parsed.data;
  const extra = [detail, hint === undefined ? undefined : `hint: ${hint}`].filter(Boolean).join('; ');
  const coded =
    code === undefined ? message : `${message} (${/^[0-9A-Z]{5}$/.test(code) ? 'SQLSTATE ' : ''}${code})`;
  return extra === '' ? coded : `${coded}: ${extra}`;
}

const codeOf = (error: unknown) => {
  const parsed = serverErrorSchema.safeParse(error);
  return parsed.success ? parsed.data.code : undefined;
};

/** Connecting failed; the message names the definition key (or variable) to look at. */
export class PostgresConnectError extends Error {
  constructor(options: PostgresSourceOptions, cause: unknown) {
    super(`${options.flavour} source: ${connectProblem(options, cause)}`);
    this.name = 'PostgresConnectError';
  }
}

function connectProblem(options: PostgresSourceOptions, cause: unknown): string {
  const reason = describePostgresError(cause);
  const code = codeOf(cause);
  const where = `${options.host}:${options.port}`;
  switch (code) {
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ETIMEDOUT':
      return `cannot reach ${where}: ${reason}; check source.host and source.port (or PGHOST and PGPORT)`;
    case '28P01':
      return (
        `the server refused user "${options.user}": ${reason}; check source.user (or PGUSER) and the ` +
        'password in PGPASSWORD or PGPASSWORD_FILE'
      );
    case '28000':
      return `the server refused user "${options.user}" on database "${options.database}": ${reason}; check source.user, source.database and source.ssl`;
    case '3D000':
      return `database "${options.database}" does not exist on ${where}: ${reason}; check source.database (or PGDATABASE)`;
  }
  if (/does not support SSL/i.test(reason))
    return `source.ssl is ${options.ssl} but ${where} does not accept SSL connections; set ssl: prefer or disable to connect unencrypted`;
  if (/certificate|self[- ]signed|altnames|SSL|TLS/i.test(reason))
    return `source.ssl ${options.ssl}: the server's certificate was not accepted (${reason}); check source.ssl_root_cert (or PGSSLROOTCERT) and source.host`;
  if (/timeout/i.test(reason))
    return `no answer from ${where} in time (${reason}); check source.host and source.port (or PGHOST and PGPORT)`;
  return `cannot connect to ${where} as "${options.user}": ${reason}`;
}

/** TLS settings for one attempt with libpq's meaning of each mode; false: unencrypted. */
function tlsFor(options: PostgresSourceOptions, encrypt: boolean): false | ConnectionOptions {
  if (!encrypt) return false;
  const ca = options.sslRootCert;
  switch (options.ssl) {
    case 'verify-full':
      return { ca, rejectUnauthorized: true };
    case 'verify-ca':
      return { ca, rejectUnauthorized: true, checkServerIdentity: () => undefined };
    default:
      // libpq: `require` with a root certificate verifies the chain as verify-ca does; else it
      // (and `prefer` and `allow`) encrypts without verifying.
      return ca === undefined
        ? { rejectUnauthorized: false }
        : { ca, rejectUnauthorized: true, checkServerIdentity: () => undefined };
  }
}

const FIRST_ATTEMPT_ENCRYPTED: Record<SslMode, boolean> = {
  disable: false,
  allow: false,
  prefer: true,
  require: true,
  'verify-ca': true,
  'verify-full': true,
};

/** libpq's second try: `prefer` falls back to plain, `allow` to SSL, when the first is refused. */
function secondAttempt(mode: SslMode, error: unknown): boolean | undefined {
  const reason = describePostgresError(error);
  if (mode === 'prefer' && /does not support SSL/i.test(reason)) return false;
  if (mode === 'allow' && codeOf(error) === '28000' && /no encryption/i.test(reason)) return true;
  return undefined;
}

export interface Session {
  client: pg.Client;
  /** An error the connection raised between queries (the server went away): the next use throws it. */
  broken(): Error | undefined;
}

const CONNECT_TIMEOUT_MS = 30_000;

async function attempt(options: PostgresSourceOptions, encrypt: boolean): Promise<Session> {
  const password = options.password;
  const { pg: driver } = await loadPostgresDriver();
  const client = new driver.Client({
    host: options.host,
    port: options.port,
    database: options.database,
    user: options.user,
    // Asked for only when the server wants one; never the definition's, never a ~/.pgpass guess.
    password: () => {
      if (password !== undefined) return password.reveal();
      throw new Error('the server asks for a password; set PGPASSWORD or PGPASSWORD_FILE');
    },
    ssl: tlsFor(options, encrypt),
    types: typeParsers,
    application_name: 'idmerge',
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
  });
  let broken: Error | undefined;
  // Without a listener an error between queries would end the process.
  client.on('error', (error) => (broken ??= error));
  await client.connect();
  return { client, broken: () => broken };
}

/** Connects as the options say (with libpq's fallbacks for `prefer` and `allow`) and sets up the session. */
export async function openSession(options: PostgresSourceOptions, sql: PostgresSql): Promise<Session> {
  let session: Session;
  const first = FIRST_ATTEMPT_ENCRYPTED[options.ssl];
  try {
    try {
      session = await attempt(options, first);
    } catch (error) {
      const second = secondAttempt(options.ssl, error);
      if (second === undefined) throw error;
      session = await attempt(options, second);
    }
  } catch (error) {
    throw new PostgresConnectError(options, error);
  }
  try {
    for (const statement of sql.session(options.statementTimeoutMs, options.schema))
      await session.client.query(statement);
  } catch (error) {
    await session.client.end().catch(() => undefined);
    throw new Error(
      `${options.flavour} source: setting up the session failed: ${describePostgresError(error)}`,
    );
  }
  return session;
}

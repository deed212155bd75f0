import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { SyncDefinition } from '../definition.js';
import { Secret } from './secret.js';

export type PostgresDefinitionSource = Extract<SyncDefinition['source'], { type: 'postgres' | 'redshift' }>;

/** libpq's `sslmode`. */
export type SslMode = NonNullable<PostgresDefinitionSource['ssl']>;

/** Which server speaks: PostgreSQL itself, or Redshift (the same protocol, a narrower SQL). */
export type PostgresFlavour = 'postgres' | 'redshift';

export interface PostgresSourceOptions {
  flavour: PostgresFlavour;
  host: string;
  port: number;
  database: string;
  user: string;
  schema?: string;
  ssl: SslMode;
  /** PEM text of the certificate authorities that verify the server. */
  sslRootCert?: string;
  /** Absent: the server asked for no password (trust, peer or certificate authentication). */
  password?: Secret;
  statementTimeoutMs: number;
  query?: string;
  table?: string;
  cursor?: string;
  primaryKey: string;
  /** Columns the mapping reads, with the definition key that names each: checked when connecting. */
  mappedColumns?: ReadonlyArray<{ column: string; key: string }>;
}

/** A setting that is missing or unusable; the message names the YAML key or variable to fix. */
export class PostgresSettingsError extends Error {
  constructor(flavour: PostgresFlavour, problem: string) {
    super(`${flavour} source: ${problem}`);
    this.name = 'PostgresSettingsError';
  }
}

type Env = NodeJS.ProcessEnv;

const DEFAULTS: Record<PostgresFlavour, { port: number; ssl: SslMode }> = {
  // libpq's defaults.
  postgres: { port: 5432, ssl: 'prefer' },
  // Redshift listens on 5439 and is reached over the internet: encrypted unless said otherwise.
  redshift: { port: 5439, ssl: 'require' },
};

const DEFAULT_STATEMENT_TIMEOUT_SECONDS = 15 * 60;

const fromEnv = (env: Env, name: string) => {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
};

/** Reads a file a setting names; errors name the setting and the path, never the content. */
function readNamed(flavour: PostgresFlavour, setting: string, path: string): string {
  try {
    const text = readFileSync(path, 'utf8');
    if (text.trim() === '') throw new PostgresSettingsError(flavour, `${setting}: ${path} is empty`);
    return text;
  } catch (error) {
    if (error instanceof PostgresSettingsError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new PostgresSettingsError(flavour, `${setting}: cannot read ${path} (${code})`);
  }
}

function passwordFrom(flavour: PostgresFlavour, env: Env): Secret | undefined {
  const inline = fromEnv(env, 'PGPASSWORD');
  const file = fromEnv(env, 'PGPASSWORD_FILE');
  if (inline !== undefined && file !== undefined)
    throw new PostgresSettingsError(flavour, 'set PGPASSWORD or PGPASSWORD_FILE, not both');
  if (inline !== undefined) return new Secret(inline);
  if (file !== undefined)
    return new Secret(readNamed(flavour, 'PGPASSWORD_FILE', file).replace(/[\r\n]+$/, ''));
  return undefined;
}

function portFrom(flavour: PostgresFlavour, source: PostgresDefinitionSource, env: Env): number {
  if (source.port !== undefined) return source.port;
  const text = fromEnv(env, 'PGPORT');
  if (text === undefined) return DEFAULTS[flavour].port;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65_535)
    throw new PostgresSettingsError(flavour, `PGPORT "${text}" is not a port number (1–65535)`);
  return port;
}

function sslFrom(flavour: PostgresFlavour, source: PostgresDefinitionSource, env: Env): SslMode {
  if (source.ssl !== undefined) return source.ssl;
  const text = fromEnv(env, 'PGSSLMODE');
  if (text === undefined) return DEFAULTS[flavour].ssl;
  const modes: readonly string[] = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];
  if (!modes.includes(text))
    throw new PostgresSettingsError(flavour, `PGSSLMODE "${text}" is not one of ${modes.join(', ')}`);
  return text as SslMode;
}

function required(
  flavour: PostgresFlavour,
  value: string | undefined,
  key: string,
  variable: string,
): string {
  if (value !== undefined) return value;
  throw new PostgresSettingsError(
    flavour,
    `${key} is missing; write source.${key} in the definition or set ${variable} in the environment`,
  );
}

/**
 * The source's options from its definition and the environment: each connection key written in
 * the definition wins over libpq's variable for it. The password comes from PGPASSWORD or the file
 * PGPASSWORD_FILE names, never from the definition. `definitionDir` resolves a relative
 * `ssl_root_cert`.
 */
export function postgresOptionsFrom(
  source: PostgresDefinitionSource,
  env: Env,
  definitionDir = process.cwd(),
): PostgresSourceOptions {
  const flavour = source.type;
  const ssl = sslFrom(flavour, source, env);
  const rootCertPath = source.ssl_root_cert ?? fromEnv(env, 'PGSSLROOTCERT');
  const rootCertSetting = source.ssl_root_cert !== undefined ? 'source.ssl_root_cert' : 'PGSSLROOTCERT';
  if ((ssl === 'verify-ca' || ssl === 'verify-full') && rootCertPath === undefined) {
    // libpq would look for ~/.postgresql/root.crt; saying which file verifies the server is clearer.
    throw new PostgresSettingsError(
      flavour,
      `ssl: ${ssl} verifies the server's certificate; name the certificate authorities' PEM file in ` +
        'source.ssl_root_cert or PGSSLROOTCERT',
    );
  }
  const rootCertFile =
    rootCertPath === undefined || isAbsolute(rootCertPath)
      ? rootCertPath
      : resolve(definitionDir, rootCertPath);
  return {
    flavour,
    host: source.host ?? fromEnv(env, 'PGHOST') ?? 'localhost',
    port: portFrom(flavour, source, env),
    database: required(flavour, source.database ?? fromEnv(env, 'PGDATABASE'), 'database', 'PGDATABASE'),
    user: required(flavour, source.user ?? fromEnv(env, 'PGUSER'), 'user', 'PGUSER'),
    schema: source.schema,
    ssl,
    sslRootCert: rootCertFile === undefined ? undefined : readNamed(flavour, rootCertSetting, rootCertFile),
    password: passwordFrom(flavour, env),
    statementTimeoutMs: (source.statement_timeout ?? DEFAULT_STATEMENT_TIMEOUT_SECONDS) * 1000,
    query: source.query,
    table: source.table,
    cursor: source.cursor,
    primaryKey: source.primary_key,
  };
}

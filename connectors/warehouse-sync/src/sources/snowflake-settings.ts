import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { SyncDefinition } from '../definition.js';
import { Secret } from './secret.js';

export type SnowflakeDefinitionSource = Extract<SyncDefinition['source'], { type: 'snowflake' }>;

/** How the source signs in: a password, or a key pair (an RSA private key in PEM, maybe encrypted). */
export type SnowflakeAuth =
  { type: 'password'; password: Secret } | { type: 'key-pair'; privateKey: Secret; passphrase?: Secret };

export interface SnowflakeSourceOptions {
  account: string;
  user: string;
  warehouse?: string;
  database?: string;
  schema?: string;
  role?: string;
  /** The account's endpoint; default https://<account>.snowflakecomputing.com. */
  accessUrl?: string;
  auth: SnowflakeAuth;
  query?: string;
  table?: string;
  cursor?: string;
  primaryKey: string;
}

/** A setting that is missing or unusable; the message names the YAML key or variable to fix. */
export class SnowflakeSettingsError extends Error {
  constructor(problem: string) {
    super(`snowflake source: ${problem}`);
    this.name = 'SnowflakeSettingsError';
  }
}

type Env = NodeJS.ProcessEnv;

const SETTINGS = {
  account: 'SNOWFLAKE_ACCOUNT',
  user: 'SNOWFLAKE_USER',
  warehouse: 'SNOWFLAKE_WAREHOUSE',
  database: 'SNOWFLAKE_DATABASE',
  schema: 'SNOWFLAKE_SCHEMA',
  role: 'SNOWFLAKE_ROLE',
} as const;

const PASSWORD = 'SNOWFLAKE_PASSWORD';
const PASSWORD_FILE = 'SNOWFLAKE_PASSWORD_FILE';
const PRIVATE_KEY_FILE = 'SNOWFLAKE_PRIVATE_KEY_FILE';
const PASSPHRASE = 'SNOWFLAKE_PRIVATE_KEY_PASSPHRASE';

function fromEnv(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

function setting(
  source: SnowflakeDefinitionSource,
  env: Env,
  key: keyof typeof SETTINGS,
): string | undefined {
  return source[key] ?? fromEnv(env, SETTINGS[key]);
}

function required(source: SnowflakeDefinitionSource, env: Env, key: keyof typeof SETTINGS): string {
  const value = setting(source, env, key);
  if (value === undefined) {
    throw new SnowflakeSettingsError(
      `${key} is missing; write source.${key} in the definition or set ${SETTINGS[key]} in the environment`,
    );
  }
  return value;
}

/** Reads the file a `*_FILE` variable names; the message names the variable and the path, never the content. */
function readNamedFile(variable: string, path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new SnowflakeSettingsError(`${variable}: cannot read ${path} (${code})`);
  }
  if (text.trim() === '') throw new SnowflakeSettingsError(`${variable}: ${path} is empty`);
  return text;
}

function passwordFrom(env: Env): Secret | undefined {
  const inline = fromEnv(env, PASSWORD);
  const file = fromEnv(env, PASSWORD_FILE);
  if (inline !== undefined && file !== undefined)
    throw new SnowflakeSettingsError(`set ${PASSWORD} or ${PASSWORD_FILE}, not both`);
  if (inline !== undefined) return new Secret(inline);
  if (file !== undefined) return new Secret(readNamedFile(PASSWORD_FILE, file).replace(/[\r\n]+$/, ''));
  return undefined;
}

function keyPairFrom(env: Env, file: string): SnowflakeAuth {
  const passphraseText = fromEnv(env, PASSPHRASE);
  const pem = readNamedFile(PRIVATE_KEY_FILE, file);
  const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(pem);
  if (encrypted && passphraseText === undefined)
    throw new SnowflakeSettingsError(
      `${PRIVATE_KEY_FILE}: the key in ${file} is encrypted; set ${PASSPHRASE}`,
    );
  try {
    createPrivateKey({ key: pem, format: 'pem', passphrase: passphraseText });
  } catch {
    const problem = encrypted
      ? `${PASSPHRASE} does not open the key in ${file}`
      : `${file} does not hold a PEM private key`;
    throw new SnowflakeSettingsError(`${PRIVATE_KEY_FILE}: ${problem}`);
  }
  return {
    type: 'key-pair',
    privateKey: new Secret(pem),
    passphrase: passphraseText === undefined ? undefined : new Secret(passphraseText),
  };
}

function authFrom(env: Env): SnowflakeAuth {
  const keyFile = fromEnv(env, PRIVATE_KEY_FILE);
  const hasPassword = fromEnv(env, PASSWORD) !== undefined || fromEnv(env, PASSWORD_FILE) !== undefined;
  if (hasPassword && keyFile !== undefined) {
    throw new SnowflakeSettingsError(
      `both a password and ${PRIVATE_KEY_FILE} are set; keep the one this sync should use`,
    );
  }
  if (keyFile !== undefined) return keyPairFrom(env, keyFile);
  if (fromEnv(env, PASSPHRASE) !== undefined)
    throw new SnowflakeSettingsError(`${PASSPHRASE} is set but ${PRIVATE_KEY_FILE} is not`);
  const password = passwordFrom(env);
  if (password !== undefined) return { type: 'password', password };
  throw new SnowflakeSettingsError(
    `no credentials; set ${PASSWORD} or ${PASSWORD_FILE}, or ${PRIVATE_KEY_FILE} for key-pair ` +
      `authentication (secrets are read from the environment only, never from the definition)`,
  );
}

const isLoopback = (hostname: string) =>
  hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);

function checkedAccessUrl(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const parsed = new URL(url);
  if (parsed.protocol === 'https:') return url.replace(/\/+$/, '');
  if (parsed.protocol === 'http:' && isLoopback(parsed.hostname)) return url.replace(/\/+$/, '');
  throw new SnowflakeSettingsError(
    `source.access_url must use https (plain http is accepted only for a loopback address, for local tests)`,
  );
}

/**
 * The Snowflake source's options from its definition and the environment. Connection settings in
 * the definition win over their variables; secrets come from the environment only.
 */
export function snowflakeOptionsFrom(source: SnowflakeDefinitionSource, env: Env): SnowflakeSourceOptions {
  return {
    account: required(source, env, 'account'),
    user: required(source, env, 'user'),
    warehouse: setting(source, env, 'warehouse'),
    database: setting(source, env, 'database'),
    schema: setting(source, env, 'schema'),
    role: setting(source, env, 'role'),
    accessUrl: checkedAccessUrl(source.access_url),
    auth: authFrom(env),
    query: source.query,
    table: source.table,
    cursor: source.cursor,
    primaryKey: source.primary_key,
  };
}

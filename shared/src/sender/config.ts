import { readFileSync } from 'node:fs';
import { z } from 'zod';

export const REGION_HOSTS = {
  us: 'https://api.mixpanel.com',
  eu: 'https://api-eu.mixpanel.com',
  in: 'https://api-in.mixpanel.com',
} as const;
export type Region = keyof typeof REGION_HOSTS;

export type MixpanelAuth =
  | { kind: 'service-account'; username: string; secret: string; projectId: string }
  | { kind: 'api-secret'; secret: string }
  | { kind: 'token'; token: string };

export interface MixpanelConfig {
  region: Region;
  /** Base URL requests go to: the region's host, or MIXPANEL_API_HOST. */
  apiHost: string;
  /** How `/import` authenticates. */
  auth: MixpanelAuth;
  /** Written into `/track`, `/engage` and `/groups` records; required for those endpoints. */
  projectToken?: string;
  /** Every secret value, so any text can be scrubbed before it is shown. */
  secrets: string[];
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const VARIABLES = [
  'MIXPANEL_PROJECT_TOKEN',
  'MIXPANEL_SERVICE_ACCOUNT_USERNAME',
  'MIXPANEL_SERVICE_ACCOUNT_SECRET',
  'MIXPANEL_PROJECT_ID',
  'MIXPANEL_API_SECRET',
  'MIXPANEL_REGION',
  'MIXPANEL_API_HOST',
] as const;
type Variable = (typeof VARIABLES)[number];

/** A variable's value, or the trimmed content of the file named by `<VAR>_FILE`. */
function read(env: NodeJS.ProcessEnv, name: Variable): string | undefined {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  if (direct !== undefined && direct !== '' && file !== undefined && file !== '') {
    throw new ConfigError(`${name} and ${name}_FILE are both set; keep one`);
  }
  if (file !== undefined && file !== '') {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch (error) {
      throw new ConfigError(
        `${name}_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
  }
  return direct === '' ? undefined : direct;
}

const hostSchema = z
  .string()
  .url()
  .refine((value) => /^https?:$/.test(new URL(value).protocol), 'must be an http(s) URL');

/**
 * Mixpanel settings from the environment, the same for every command. Missing or contradictory
 * settings fail at once with a message naming the variable.
 */
export function loadMixpanelConfig(
  env: NodeJS.ProcessEnv = process.env,
  needs: { importAuth?: boolean; token?: boolean } = { importAuth: true },
): MixpanelConfig {
  const value = Object.fromEntries(VARIABLES.map((name) => [name, read(env, name)])) as Record<
    Variable,
    string | undefined
  >;

  const regionText = (value.MIXPANEL_REGION ?? 'us').toLowerCase();
  if (!(regionText in REGION_HOSTS)) {
    throw new ConfigError(
      `MIXPANEL_REGION must be us, eu or in (data sent to the wrong region is lost), got "${value.MIXPANEL_REGION}"`,
    );
  }
  const region = regionText as Region;
  let apiHost: string = REGION_HOSTS[region];
  if (value.MIXPANEL_API_HOST !== undefined) {
    const parsed = hostSchema.safeParse(value.MIXPANEL_API_HOST);
    if (!parsed.success)
      throw new ConfigError(`MIXPANEL_API_HOST must be an http(s) URL, got "${value.MIXPANEL_API_HOST}"`);
    apiHost = parsed.data.replace(/\/+$/, '');
  }

  const username = value.MIXPANEL_SERVICE_ACCOUNT_USERNAME;
  const saSecret = value.MIXPANEL_SERVICE_ACCOUNT_SECRET;
  const projectId = value.MIXPANEL_PROJECT_ID;
  const apiSecret = value.MIXPANEL_API_SECRET;
  const token = value.MIXPANEL_PROJECT_TOKEN;

  let auth: MixpanelAuth | undefined;
  if (username !== undefined || saSecret !== undefined) {
    if (username === undefined)
      throw new ConfigError(
        'MIXPANEL_SERVICE_ACCOUNT_USERNAME is missing (MIXPANEL_SERVICE_ACCOUNT_SECRET is set)',
      );
    if (saSecret === undefined)
      throw new ConfigError(
        'MIXPANEL_SERVICE_ACCOUNT_SECRET is missing (MIXPANEL_SERVICE_ACCOUNT_USERNAME is set)',
      );
    if (projectId === undefined)
      throw new ConfigError('MIXPANEL_PROJECT_ID is required with a service account');
    if (!/^\d+$/.test(projectId))
      throw new ConfigError(`MIXPANEL_PROJECT_ID must be the numeric project ID, got "${projectId}"`);
    if (apiSecret !== undefined) {
      throw new ConfigError(
        'MIXPANEL_API_SECRET and a service account are both set; choose one way to authenticate /import',
      );
    }
    auth = { kind: 'service-account', username, secret: saSecret, projectId };
  } else if (apiSecret !== undefined) {
    if (projectId !== undefined)
      throw new ConfigError('MIXPANEL_PROJECT_ID goes with a service account, not with MIXPANEL_API_SECRET');
    auth = { kind: 'api-secret', secret: apiSecret };
  } else if (token !== undefined) {
    auth = { kind: 'token', token };
  }
  if (auth === undefined && needs.importAuth !== false) {
    throw new ConfigError(
      'no Mixpanel credentials: set MIXPANEL_SERVICE_ACCOUNT_USERNAME, MIXPANEL_SERVICE_ACCOUNT_SECRET and MIXPANEL_PROJECT_ID, or MIXPANEL_API_SECRET, or MIXPANEL_PROJECT_TOKEN',
    );
  }
  if (needs.token && token === undefined) {
    throw new ConfigError('MIXPANEL_PROJECT_TOKEN is required for /track, /engage and /groups');
  }
  const basic = auth === undefined ? [] : [basicAuthUser(auth)];
  const secrets = secretForms([saSecret, apiSecret, token], basic);
  return {
    region,
    apiHost,
    auth: auth ?? { kind: 'token', token: token ?? '' },
    projectToken: token,
    secrets,
  };
}

/** The `user:password` of the Basic authorization `/import` requests carry. */
export function basicAuthUser(auth: MixpanelAuth): string {
  return auth.kind === 'service-account'
    ? `${auth.username}:${auth.secret}`
    : auth.kind === 'api-secret'
      ? `${auth.secret}:`
      : `${auth.token}:`;
}

/**
 * Every form in which a secret can show up in a text: as it is, URL-encoded (form bodies, query
 * strings), escaped inside JSON, and each `user:password` of Basic authorization in base64 (what a
 * server that echoes request headers sends back), longest first so that no shorter form breaks a
 * longer one before it is replaced.
 */
export function secretForms(
  secrets: ReadonlyArray<string | undefined>,
  basicUsers: readonly string[] = [],
): string[] {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (secret === undefined || secret === '') continue;
    forms.add(secret);
    forms.add(encodeURIComponent(secret));
    forms.add(JSON.stringify(secret).slice(1, -1));
  }
  for (const user of basicUsers) {
    const base64 = Buffer.from(user).toString('base64');
    forms.add(base64);
    forms.add(base64.replace(/=+$/, ''));
    forms.add(Buffer.from(user).toString('base64url'));
  }
  forms.delete('');
  return [...forms].sort((a, b) => b.length - a.length);
}

const SECRET_VARIABLES = [
  'MIXPANEL_SERVICE_ACCOUNT_SECRET',
  'MIXPANEL_API_SECRET',
  'MIXPANEL_PROJECT_TOKEN',
  'SNOWFLAKE_PASSWORD',
  'SNOWFLAKE_PRIVATE_KEY_PASSPHRASE',
] as const;

/**
 * The secrets of an environment, for scrubbing errors and logs; never throws (settings that do not
 * load still have their secrets scrubbed).
 */
export function secretsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  const raw: string[] = [];
  for (const name of SECRET_VARIABLES) {
    const direct = env[name];
    if (direct !== undefined && direct !== '') raw.push(direct);
    const file = env[`${name}_FILE`];
    if (file === undefined || file === '') continue;
    try {
      raw.push(readFileSync(file, 'utf8').trim());
    } catch {
      // unreadable: nothing of it can leak either
    }
  }
  let loaded: string[] = [];
  try {
    loaded = loadMixpanelConfig(env, { importAuth: false }).secrets;
  } catch {
    // contradictory settings: their raw values are scrubbed all the same
  }
  return [...new Set([...loaded, ...secretForms(raw)])].sort((a, b) => b.length - a.length);
}

/**
 * Replaces every secret in a text with `[redacted]`, whatever its length: pass the forms of
 * `secretForms` (a config's `secrets` are those already), longest first.
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret === '' || !out.includes(secret)) continue;
    out = out.split(secret).join('[redacted]');
  }
  return out;
}

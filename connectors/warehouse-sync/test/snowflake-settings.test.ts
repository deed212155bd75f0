import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseSyncDefinition } from '../src/definition.js';
import {
  snowflakeOptionsFrom,
  SnowflakeSettingsError,
  type SnowflakeDefinitionSource,
} from '../src/sources/snowflake-settings.js';

const dir = mkdtempSync(join(tmpdir(), 'snowflake-settings-'));
const PASSWORD = 'pw-Sup3r-Secr3t';
const PASSPHRASE = 'phrase-Sup3r-Secr3t';

const source: SnowflakeDefinitionSource = {
  type: 'snowflake',
  table: 'events',
  cursor: 'updated_at',
  primary_key: 'event_id',
  null_cursor: 'dead_letter',
};

const env = {
  SNOWFLAKE_ACCOUNT: 'acme-prod',
  SNOWFLAKE_USER: 'loader',
  SNOWFLAKE_WAREHOUSE: 'SYNC_WH',
  SNOWFLAKE_PASSWORD: PASSWORD,
};

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const encryptedKey = file(
  'encrypted.p8',
  privateKey
    .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: PASSPHRASE })
    .toString(),
);

function failure(run: () => unknown): SnowflakeSettingsError {
  try {
    run();
  } catch (error) {
    if (error instanceof SnowflakeSettingsError) return error;
    throw error;
  }
  throw new Error('expected a settings error');
}

describe('Snowflake settings', () => {
  it('take connection settings from the environment when the definition leaves them out', () => {
    const options = snowflakeOptionsFrom(source, env);
    expect(options).toMatchObject({
      account: 'acme-prod',
      user: 'loader',
      warehouse: 'SYNC_WH',
      table: 'events',
      cursor: 'updated_at',
      primaryKey: 'event_id',
    });
    expect(options.auth.type).toBe('password');
  });

  it('prefer the definition over the environment', () => {
    const options = snowflakeOptionsFrom({ ...source, account: 'other', role: 'SYNC' }, env);
    expect(options).toMatchObject({ account: 'other', role: 'SYNC' });
  });

  it.each([
    ['account', 'SNOWFLAKE_ACCOUNT'],
    ['user', 'SNOWFLAKE_USER'],
  ] as const)('name the YAML key and the variable when %s is missing', (key, variable) => {
    const error = failure(() => snowflakeOptionsFrom(source, { ...env, [variable]: '' }));
    expect(error.message).toContain(`source.${key}`);
    expect(error.message).toContain(variable);
  });

  it('name every way to give a secret when none is set', () => {
    const error = failure(() => snowflakeOptionsFrom(source, { ...env, SNOWFLAKE_PASSWORD: undefined }));
    expect(error.message).toMatch(/SNOWFLAKE_PASSWORD .*SNOWFLAKE_PASSWORD_FILE.*SNOWFLAKE_PRIVATE_KEY_FILE/);
  });

  it('read SNOWFLAKE_PASSWORD_FILE, without its final newline', () => {
    const path = file('password.txt', `${PASSWORD}\n`);
    const options = snowflakeOptionsFrom(source, {
      ...env,
      SNOWFLAKE_PASSWORD: undefined,
      SNOWFLAKE_PASSWORD_FILE: path,
    });
    expect(options.auth.type === 'password' && options.auth.password.reveal()).toBe(PASSWORD);
  });

  it('name the variable and the path of a file that cannot be read', () => {
    const error = failure(() =>
      snowflakeOptionsFrom(source, {
        ...env,
        SNOWFLAKE_PASSWORD: undefined,
        SNOWFLAKE_PASSWORD_FILE: join(dir, 'missing.txt'),
      }),
    );
    expect(error.message).toMatch(/SNOWFLAKE_PASSWORD_FILE: cannot read .*missing\.txt \(ENOENT\)/);
  });

  it('refuse two secrets at once', () => {
    expect(() =>
      snowflakeOptionsFrom(source, { ...env, SNOWFLAKE_PASSWORD_FILE: file('p2.txt', PASSWORD) }),
    ).toThrow(/SNOWFLAKE_PASSWORD or SNOWFLAKE_PASSWORD_FILE, not both/);
    expect(() => snowflakeOptionsFrom(source, { ...env, SNOWFLAKE_PRIVATE_KEY_FILE: encryptedKey })).toThrow(
      /both a password and SNOWFLAKE_PRIVATE_KEY_FILE/,
    );
  });

  it('read a key pair from SNOWFLAKE_PRIVATE_KEY_FILE and its passphrase', () => {
    const options = snowflakeOptionsFrom(source, {
      ...env,
      SNOWFLAKE_PASSWORD: undefined,
      SNOWFLAKE_PRIVATE_KEY_FILE: encryptedKey,
      SNOWFLAKE_PRIVATE_KEY_PASSPHRASE: PASSPHRASE,
    });
    expect(options.auth.type).toBe('key-pair');
    expect(options.auth.type === 'key-pair' && options.auth.privateKey.reveal()).toContain(
      'BEGIN ENCRYPTED PRIVATE KEY',
    );
  });

  it('tell an encrypted key without its passphrase, and a wrong passphrase, without showing either', () => {
    const keyEnv = { ...env, SNOWFLAKE_PASSWORD: undefined, SNOWFLAKE_PRIVATE_KEY_FILE: encryptedKey };
    expect(failure(() => snowflakeOptionsFrom(source, keyEnv)).message).toMatch(
      /is encrypted; set SNOWFLAKE_PRIVATE_KEY_PASSPHRASE/,
    );
    const wrong = failure(() =>
      snowflakeOptionsFrom(source, { ...keyEnv, SNOWFLAKE_PRIVATE_KEY_PASSPHRASE: 'not-the-phrase' }),
    );
    expect(wrong.message).toMatch(/SNOWFLAKE_PRIVATE_KEY_PASSPHRASE does not open the key/);
    expect(wrong.message).not.toContain('not-the-phrase');
    expect(wrong.message).not.toContain('PRIVATE KEY-----');
  });

  it('refuse a passphrase without a key file', () => {
    expect(() =>
      snowflakeOptionsFrom(source, { ...env, SNOWFLAKE_PRIVATE_KEY_PASSPHRASE: PASSPHRASE }),
    ).toThrow(/SNOWFLAKE_PRIVATE_KEY_PASSPHRASE is set but SNOWFLAKE_PRIVATE_KEY_FILE is not/);
  });

  it('refuse plain http to anything but a loopback address', () => {
    expect(() => snowflakeOptionsFrom({ ...source, access_url: 'http://acme.example.com' }, env)).toThrow(
      /access_url must use https/,
    );
    expect(snowflakeOptionsFrom({ ...source, access_url: 'http://127.0.0.1:4000/' }, env).accessUrl).toBe(
      'http://127.0.0.1:4000',
    );
  });

  it('never show a secret when the options are printed or serialized', () => {
    const withPassword = snowflakeOptionsFrom(source, env);
    const withKey = snowflakeOptionsFrom(source, {
      ...env,
      SNOWFLAKE_PASSWORD: undefined,
      SNOWFLAKE_PRIVATE_KEY_FILE: encryptedKey,
      SNOWFLAKE_PRIVATE_KEY_PASSPHRASE: PASSPHRASE,
    });
    for (const options of [withPassword, withKey]) {
      const shown = `${inspect(options, { depth: 5 })} ${JSON.stringify(options)} ${String(options.auth)}`;
      expect(shown).not.toContain(PASSWORD);
      expect(shown).not.toContain(PASSPHRASE);
      expect(shown).not.toContain('PRIVATE KEY');
      expect(shown).toContain('[redacted]');
    }
  });

  it('read the example definition in the documentation', () => {
    const docs = readFileSync(new URL('../../../docs/warehouse-sync.md', import.meta.url), 'utf8');
    const example = /## Snowflake[\s\S]*?```yaml\n([\s\S]*?)```/.exec(docs)?.[1] ?? '';
    const definition = parseSyncDefinition(example, 'docs/warehouse-sync.md');
    if (definition.source.type !== 'snowflake') throw new Error('the example is not a Snowflake source');
    expect(snowflakeOptionsFrom(definition.source, { SNOWFLAKE_PASSWORD: PASSWORD })).toMatchObject({
      account: 'myorg-analytics',
      user: 'IDMERGE_SYNC',
      warehouse: 'SYNC_WH',
      role: 'IDMERGE_READER',
      cursor: 'UPDATED_AT',
      primaryKey: 'ORDER_ID',
    });
  });
});

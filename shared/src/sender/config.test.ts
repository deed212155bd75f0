import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMixpanelConfig, redact, secretsFromEnv } from './config.js';

describe('loadMixpanelConfig', () => {
  it('reads a service account, region and host override', () => {
    const config = loadMixpanelConfig({
      MIXPANEL_SERVICE_ACCOUNT_USERNAME: 'u',
      MIXPANEL_SERVICE_ACCOUNT_SECRET: 's3cret',
      MIXPANEL_PROJECT_ID: '12',
      MIXPANEL_REGION: 'EU',
    });
    expect(config).toMatchObject({
      region: 'eu',
      apiHost: 'https://api-eu.mixpanel.com',
      auth: { kind: 'service-account', projectId: '12' },
    });
    expect(
      loadMixpanelConfig({ MIXPANEL_PROJECT_TOKEN: 't', MIXPANEL_API_HOST: 'http://127.0.0.1:9/' }).apiHost,
    ).toBe('http://127.0.0.1:9');
  });

  it('reads secrets from files named by <VAR>_FILE', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cfg-')), 'secret');
    writeFileSync(file, 'from-file\n');
    expect(loadMixpanelConfig({ MIXPANEL_API_SECRET_FILE: file }).auth).toEqual({
      kind: 'api-secret',
      secret: 'from-file',
    });
  });

  it.each([
    [{}, /no Mixpanel credentials: set MIXPANEL_SERVICE_ACCOUNT_USERNAME/],
    [{ MIXPANEL_PROJECT_TOKEN: 't', MIXPANEL_REGION: 'asia' }, /MIXPANEL_REGION must be us, eu or in/],
    [
      { MIXPANEL_SERVICE_ACCOUNT_USERNAME: 'u', MIXPANEL_SERVICE_ACCOUNT_SECRET: 's' },
      /MIXPANEL_PROJECT_ID is required/,
    ],
    [{ MIXPANEL_SERVICE_ACCOUNT_USERNAME: 'u' }, /MIXPANEL_SERVICE_ACCOUNT_SECRET is missing/],
    [{ MIXPANEL_SERVICE_ACCOUNT_SECRET: 's' }, /MIXPANEL_SERVICE_ACCOUNT_USERNAME is missing/],
    [
      {
        MIXPANEL_SERVICE_ACCOUNT_USERNAME: 'u',
        MIXPANEL_SERVICE_ACCOUNT_SECRET: 's',
        MIXPANEL_PROJECT_ID: 'abc',
      },
      /MIXPANEL_PROJECT_ID must be the numeric/,
    ],
    [
      {
        MIXPANEL_SERVICE_ACCOUNT_USERNAME: 'u',
        MIXPANEL_SERVICE_ACCOUNT_SECRET: 's',
        MIXPANEL_PROJECT_ID: '1',
        MIXPANEL_API_SECRET: 'x',
      },
      /both set; choose one/,
    ],
    [
      { MIXPANEL_API_SECRET: 'x', MIXPANEL_PROJECT_ID: '1' },
      /MIXPANEL_PROJECT_ID goes with a service account/,
    ],
    [
      { MIXPANEL_PROJECT_TOKEN: 't', MIXPANEL_API_HOST: 'ftp://x' },
      /MIXPANEL_API_HOST must be an http\(s\) URL/,
    ],
    [
      { MIXPANEL_API_SECRET: 'x', MIXPANEL_API_SECRET_FILE: '/tmp/y' },
      /MIXPANEL_API_SECRET and MIXPANEL_API_SECRET_FILE are both set/,
    ],
    [
      { MIXPANEL_API_SECRET_FILE: '/nonexistent/secret' },
      /MIXPANEL_API_SECRET_FILE: cannot read \/nonexistent\/secret \(ENOENT\)/,
    ],
  ])('refuses %j, naming the variable', (env, message) => {
    expect(() => loadMixpanelConfig(env)).toThrow(message);
  });

  it('never puts a secret in its errors', () => {
    expect(() => loadMixpanelConfig({ MIXPANEL_SERVICE_ACCOUNT_SECRET: 'very-secret-value' })).toThrow(
      /^((?!very-secret-value).)*$/,
    );
  });
});

describe('redact', () => {
  it('replaces every secret', () => {
    expect(redact('a abcd1234 b abcd1234', ['abcd1234'])).toBe('a [redacted] b [redacted]');
  });
});

describe('secrets in every form', () => {
  it('redacts secrets of any length and the Basic-auth encodings requests carry', () => {
    const config = loadMixpanelConfig({
      MIXPANEL_SERVICE_ACCOUNT_USERNAME: 'sa.user',
      MIXPANEL_SERVICE_ACCOUNT_SECRET: 'k9"',
      MIXPANEL_PROJECT_ID: '7',
      MIXPANEL_PROJECT_TOKEN: 'ab',
    });
    const header = `Basic ${Buffer.from('sa.user:k9"').toString('base64')}`;
    const text = `echo: {"authorization":"${header}"} token=ab in ${JSON.stringify({ s: 'k9"' })} and ${encodeURIComponent('k9"')}`;
    const clean = redact(text, config.secrets);
    expect(clean).not.toContain(Buffer.from('sa.user:k9"').toString('base64'));
    expect(clean).not.toContain('k9');
    expect(clean).not.toMatch(/\bab\b/);
    expect(clean).toContain('Basic [redacted]');
  });

  it('finds the secrets of an environment even when its settings do not load', () => {
    const env = { MIXPANEL_API_SECRET: 'zz', MIXPANEL_PROJECT_ID: 'not-a-number' };
    expect(() => loadMixpanelConfig(env)).toThrow();
    const secrets = secretsFromEnv(env);
    expect(redact('x zz y', secrets)).toBe('x [redacted] y');
  });
});

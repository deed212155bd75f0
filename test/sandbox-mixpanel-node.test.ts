import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Mixpanel from 'mixpanel';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/run-cli.js';
import { startSandboxProcess, type SandboxProcess } from './support/sandbox-process.js';

const TOKEN = 'node-lib-token';
const quietLogger = { ...console, warn: () => undefined };

/** A client of Mixpanel's Node library pointed at the sandbox, as docs/sandbox.md shows. */
function client(sandbox: SandboxProcess, verbose: boolean) {
  const { host } = new URL(sandbox.url);
  return Mixpanel.init(TOKEN, { host, protocol: 'http', verbose, logger: quietLogger });
}

/** A library call whose callback gets an error (or a list of them) or nothing. */
function done(run: (callback: (error?: unknown) => void) => void): Promise<unknown> {
  return new Promise((resolve) => run((error) => resolve(error ?? null)));
}

interface StoredEvent {
  event: string;
  distinct_id: string;
  properties: Record<string, unknown>;
}

for (const verbose of [false, true]) {
  describe(`the mixpanel Node library (verbose: ${verbose}) against the sandbox (Original)`, () => {
    let sandbox: SandboxProcess;
    beforeAll(async () => {
      sandbox = await startSandboxProcess(['--mode', 'original', '--project-token', TOKEN]);
    });
    afterAll(() => sandbox.stop());

    it('track, track_batch and alias succeed, and the sandbox stores and merges what they sent', async () => {
      const mp = client(sandbox, verbose);
      const anon = '$device:3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
      expect(await done((cb) => mp.track('Viewed', { distinct_id: anon, page: '/' }, cb))).toBeNull();
      expect(await done((cb) => mp.track('Timed', { distinct_id: anon, time: new Date() }, cb))).toBeNull();
      const batch = Array.from({ length: 120 }, (_, i) => ({
        event: 'Clicked',
        properties: { distinct_id: 'U1', n: i },
      }));
      // 120 events: three requests of at most 50, none with time or $insert_id.
      expect(await done((cb) => mp.track_batch(batch, cb))).toBeNull();
      expect(await done((cb) => mp.alias('U1', 'U1-alias', cb))).toBeNull();

      const events = await sandbox.ndjson<StoredEvent>('/_sandbox/events');
      expect(events.map((e) => e.event)).toEqual([
        'Viewed',
        'Timed',
        ...batch.map(() => 'Clicked'),
        '$create_alias',
      ]);
      expect(events[0]?.properties).toMatchObject({ token: TOKEN, mp_lib: 'node', page: '/' });
      expect(events.filter((e) => e.event === 'Clicked').map((e) => e.properties.n)).toEqual(
        batch.map((_, i) => i),
      );
      expect(await sandbox.json('/_sandbox/clusters')).toEqual({
        mode: 'original',
        clusters: [
          { distinct_id: anon, members: [anon] },
          { distinct_id: 'U1', members: ['U1', 'U1-alias'] },
        ],
      });
    });

    it('every people.* call succeeds and leaves the profile Mixpanel would hold', async () => {
      const mp = client(sandbox, verbose);
      const p = mp.people;
      const calls: Array<[string, (cb: (e?: unknown) => void) => void]> = [
        ['set', (cb) => p.set('P1', { plan: 'free', seats: 1, ip: '10.0.0.1' }, cb)],
        ['set one', (cb) => p.set('P1', 'plan', 'pro', cb)],
        ['set_once', (cb) => p.set_once('P1', { first_seen: 'monday', plan: 'ignored' }, cb)],
        ['increment', (cb) => p.increment('P1', 'logins', 1, cb)],
        ['increment by', (cb) => p.increment('P1', { logins: 2, credits: -3 }, cb)],
        ['append', (cb) => p.append('P1', 'pages', '/home', cb)],
        ['union', (cb) => p.union('P1', { browsers: ['firefox', 'chrome'] }, cb)],
        ['remove', (cb) => p.remove('P1', { browsers: 'firefox' }, cb)],
        ['unset', (cb) => p.unset('P1', 'seats', cb)],
        [
          'track_charge',
          (cb) => p.track_charge('P1', 29.99, { $time: new Date('2026-11-01T00:00:00Z') }, cb),
        ],
        ['set on P2', (cb) => p.set('P2', 'plan', 'team', { $ignore_time: true, $ip: '1.2.3.4' }, cb)],
        ['clear_charges', (cb) => p.clear_charges('P2', cb)],
        ['delete_user', (cb) => p.delete_user('P2', cb)],
      ];
      for (const [name, run] of calls) expect([name, await done(run)]).toEqual([name, null]);
      const profiles = await sandbox.json<Record<string, unknown>>('/_sandbox/profiles');
      expect(profiles).toEqual({
        P1: {
          plan: 'pro',
          first_seen: 'monday',
          logins: 3,
          credits: -3,
          pages: ['/home'],
          browsers: ['chrome'],
          $transactions: [{ $amount: 29.99, $time: '2026-11-01T00:00:00.000Z' }],
        },
      });
    });

    it('groups.* calls succeed and update the group profile', async () => {
      const g = client(sandbox, verbose).groups;
      expect(await done((cb) => g.set('company', 'acme', { size: 10, tier: 'gold' }, cb))).toBeNull();
      expect(await done((cb) => g.set_once('company', 'acme', { founded: 1999 }, cb))).toBeNull();
      expect(await done((cb) => g.union('company', 'acme', { regions: ['eu', 'us'] }, cb))).toBeNull();
      expect(await done((cb) => g.remove('company', 'acme', { regions: 'us' }, cb))).toBeNull();
      expect(await done((cb) => g.unset('company', 'acme', 'tier', cb))).toBeNull();
      expect(await done((cb) => g.set('company', 'gone', 'x', 1, cb))).toBeNull();
      expect(await done((cb) => g.delete_group('company', 'gone', cb))).toBeNull();
      expect(await sandbox.json('/_sandbox/groups')).toEqual({
        'company/acme': { size: 10, founded: 1999, regions: ['eu'] },
      });
    });

    it('a refused record reaches the callback as an error', async () => {
      const mp = Mixpanel.init('not-the-token', {
        host: new URL(sandbox.url).host,
        protocol: 'http',
        verbose,
        logger: quietLogger,
      });
      const error = await done((cb) => mp.track('Viewed', { distinct_id: 'U1' }, cb));
      expect(String(error)).toMatch(
        verbose ? /Mixpanel Server Error: record 0: properties.token/ : /Mixpanel Server Error: 0/,
      );
    });
  });
}

describe('the mixpanel Node library imports over HTTPS with a secret (the sandbox with --tls-cert)', () => {
  let sandbox: SandboxProcess;
  let certFile = '';
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-tls-'));
    const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
      keySize: 2048,
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
    });
    certFile = join(dir, 'cert.pem');
    const keyFile = join(dir, 'key.pem');
    writeFileSync(certFile, pems.cert);
    writeFileSync(keyFile, pems.private, { mode: 0o600 });
    sandbox = await startSandboxProcess([
      '--mode',
      'original',
      '--api-secret',
      'the-secret',
      '--service-account',
      'robot:robot-secret',
      '--project-id',
      '42',
      '--tls-cert',
      certFile,
      '--tls-key',
      keyFile,
    ]);
  });
  afterAll(() => sandbox.stop());

  /** Runs the library in its own process, trusting the sandbox's certificate as a user would. */
  function runImport(auth: string, verbose: boolean): Promise<Array<{ call: string; error: string | null }>> {
    return new Promise((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [
          join(REPO_ROOT, 'test', 'support', 'mixpanel-node-import.cjs'),
          new URL(sandbox.url).host,
          'tok',
          auth,
          verbose ? '1' : '0',
        ],
        {
          cwd: join(REPO_ROOT, 'test'),
          env: { ...process.env, NODE_EXTRA_CA_CERTS: certFile },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
      child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
      child.on('error', reject);
      child.on('close', (code) => {
        if (code !== 0) reject(new Error(`the import client exited with ${code}: ${err}`));
        else
          resolve(
            out
              .trim()
              .split('\n')
              .map((l) => JSON.parse(l) as { call: string; error: string | null }),
          );
      });
    });
  }

  function inspect<T>(path: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const req = request(`${sandbox.url}${path}`, { ca: readFileSync(certFile, 'utf8') }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () =>
          resolve(
            (path.endsWith('/events')
              ? text
                  .trim()
                  .split('\n')
                  .map((l) => JSON.parse(l) as unknown)
              : JSON.parse(text)) as T,
          ),
        );
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('import (GET with data=) and import_batch (form bodies) succeed with the API secret and a service account', async () => {
    for (const [auth, verbose] of [
      ['secret:the-secret', false],
      ['secret:the-secret', true],
      ['sa:robot:robot-secret:42', false],
    ] as const) {
      expect(await runImport(auth, verbose)).toEqual([
        { call: 'import', error: null },
        { call: 'import_batch', error: null },
      ]);
    }
    const events = await inspect<StoredEvent[]>('/_sandbox/events');
    // 3 runs × (1 + 60) events, none deduplicated (the library sends no $insert_id).
    expect(events).toHaveLength(183);
    expect(events[0]).toMatchObject({ event: 'Imported', distinct_id: 'U-import' });
    expect(sandbox.stderr()).toMatch(/ GET \/import 200 records=1 accepted=1 /);
    expect(sandbox.stderr()).toMatch(/ POST \/import 200 records=50 accepted=50 /);
    expect(sandbox.stderr()).not.toMatch(/the-secret|robot-secret/);
  });

  it('a wrong secret fails the callback with the 401', async () => {
    expect(await runImport('secret:wrong', false)).toEqual([
      { call: 'import', error: expect.stringMatching(/Mixpanel Server Error: .*Invalid credentials/) },
      { call: 'import_batch', error: expect.stringMatching(/Invalid credentials/) },
    ]);
  });
});

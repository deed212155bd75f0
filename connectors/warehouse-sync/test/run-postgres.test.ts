import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeadLetterList, createSender, startSandbox, type RunningSandbox } from '@idmerge/shared';
import { parseSyncDefinition } from '../src/definition.js';
import { runSync } from '../src/run.js';
import { createSource } from '../src/sources/create.js';
import { StateStore } from '../src/state.js';
import { postgresOrSkip, startPostgres, type RunningPostgres } from './support/postgres-server.js';

const available = postgresOrSkip();
const describePostgres = 'skip' in available ? describe.skip : describe;
const TOKEN = 'pg-run-token';

let server: RunningPostgres;
let sandbox: RunningSandbox;

beforeAll(async () => {
  if ('skip' in available) return;
  [server, sandbox] = await Promise.all([
    startPostgres(),
    startSandbox({ port: 0, host: '127.0.0.1', mode: 'simplified', projectToken: TOKEN }),
  ]);
});
afterAll(async () => {
  await Promise.all([server?.stop(), sandbox?.close()]);
});

interface StoredEvent {
  event: string;
  properties: Record<string, unknown>;
}

async function storedEvents(): Promise<StoredEvent[]> {
  const text = await (await fetch(`${sandbox.url}/_sandbox/events`)).text();
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as StoredEvent);
}
const stats = async () =>
  (await (await fetch(`${sandbox.url}/_sandbox/stats`)).json()) as { accepted: number; duplicates: number };

/** One run of `yaml`'s sync through the real sender into the sandbox, reading the local server. */
async function run(yaml: string, stateDir: string) {
  const definition = parseSyncDefinition(yaml);
  const source = createSource(definition, '.', server.env);
  await source.connect();
  const deadLetter = createDeadLetterList();
  const sender = createSender(
    {
      region: 'us',
      apiHost: sandbox.url,
      auth: { kind: 'token', token: TOKEN },
      projectToken: TOKEN,
      secrets: [TOKEN],
    },
    { deadLetter, sleep: async () => {} },
  );
  try {
    const report = await runSync(definition, source, sender, new StateStore(stateDir));
    return { report, delivery: await sender.flush(), deadLetter: deadLetter.entries };
  } finally {
    await source.close();
  }
}

describePostgres(
  `sync from PostgreSQL into the sandbox ${'skip' in available ? `(${available.skip})` : ''}`,
  () => {
    it('maps every column type: timestamptz, timestamp in time_zone, date, numeric, bigint, text, jsonb, arrays, NULLs', async () => {
      await fetch(`${sandbox.url}/_sandbox/reset`, {
        method: 'POST',
        headers: { Authorization: `Basic ${Buffer.from(`${TOKEN}:`).toString('base64')}` },
      });
      await server.sql(`
      create table typed_events (
        id bigint primary key, name text, at timestamptz, local_at timestamp, day date, amount numeric(12, 2),
        big bigint, doc jsonb, tags text[], scores integer[], note text, updated_at timestamptz);
      insert into typed_events values
        (1, 'Bought', '2025-11-22 09:00:00.250+01', '2025-11-22 08:00:00', '2025-11-20', 19.99,
         9007199254740993, '{"plan": "pro", "seats": 3}', array['a', 'b'], array[1, 2], null, now()),
        (2, 'Bought', '2025-11-22 10:00:00+00', '2025-07-01 12:30:00', '2025-11-21', null,
         null, null, null, null, 'n', now());
    `);
      const yaml = (time: string, extra = '') =>
        [
          `name: typed-${time}`,
          'mode: simplified',
          'source: { type: postgres, table: typed_events, cursor: updated_at, primary_key: id, ssl: require }',
          'mapping:',
          '  type: events',
          '  event: name',
          `  time: ${time}`,
          extra,
          '  user_id: id',
          '  insert_id: [id, name]',
          '  properties: { exclude: [updated_at] }',
        ].join('\n');
      const zoned = await run(yaml('at'), mkdtempSync(join(tmpdir(), 'pg-state-')));
      expect(zoned.report).toMatchObject({ rowsRead: 2, invalid: 0 });
      const berlin = await run(
        yaml('local_at', '  time_zone: Europe/Berlin'),
        mkdtempSync(join(tmpdir(), 'pg-state-')),
      );
      expect(berlin.report).toMatchObject({ rowsRead: 2, invalid: 0 });
      const dated = await run(yaml('day', '  time_zone: UTC'), mkdtempSync(join(tmpdir(), 'pg-state-')));
      expect(dated.report).toMatchObject({ rowsRead: 2, invalid: 0 });
      const events = await storedEvents();
      const timesOf = (id: string) =>
        events.filter((e) => e.properties.$user_id === id).map((e) => e.properties.time);
      expect(timesOf('1')).toEqual([
        Date.parse('2025-11-22T08:00:00.250Z'),
        Date.parse('2025-11-22T07:00:00Z'), // 08:00 in Berlin (CET, +01:00)
        Date.parse('2025-11-20T00:00:00Z'),
      ]);
      expect(timesOf('2')).toEqual([
        Date.parse('2025-11-22T10:00:00Z'),
        Date.parse('2025-07-01T10:30:00Z'), // 12:30 in Berlin (CEST, +02:00)
        Date.parse('2025-11-21T00:00:00Z'),
      ]);
      expect(events[0]?.properties).toMatchObject({
        amount: 19.99,
        big: '9007199254740993', // exact, as text: a JSON number cannot hold it
        doc: { plan: 'pro', seats: 3 },
        tags: ['a', 'b'],
        scores: [1, 2],
        note: null,
        local_at: '2025-11-22T08:00:00',
        day: '2025-11-20',
      });
      expect(events[1]?.properties).toMatchObject({ amount: null, doc: null, tags: null });
    });

    it('pages through cursor ties across page boundaries, and a later run reads only the new rows', async () => {
      await server.sql(`
      create table ties (id integer primary key, device text, updated_at timestamptz);
      insert into ties select i, 'D' || i, timestamptz '2025-11-22 08:00:00+00' + (i / 7) * interval '1 second'
        from generate_series(1, 500) i;
    `);
      const yaml = [
        'name: ties',
        'mode: simplified',
        'page_size: 5',
        'source: { type: postgres, table: ties, cursor: updated_at, primary_key: id }',
        'mapping: { type: events, event: { value: Tied }, time: updated_at, device_id: device, insert_id: id }',
      ].join('\n');
      const state = mkdtempSync(join(tmpdir(), 'pg-state-'));
      const before = await stats();
      const first = await run(yaml, state);
      expect(first.report.rowsRead).toBe(500);
      expect(first.delivery.delivered).toBe(500);
      const afterFirst = await stats();
      expect(afterFirst.accepted - before.accepted).toBe(500);
      expect(afterFirst.duplicates).toBe(before.duplicates);
      const tied = (await storedEvents())
        .filter((e) => e.event === 'Tied')
        .map((e) => e.properties.$device_id);
      expect(new Set(tied).size).toBe(500);

      // The lower bound is inclusive: the bound's own ties (rows 497–500) are read again, and deduplicated.
      const idle = await run(yaml, state);
      expect(idle.report.rowsRead).toBe(4);
      expect((await stats()).accepted).toBe(afterFirst.accepted);

      await server.sql(`
      insert into ties select i, 'D' || i, timestamptz '2025-11-22 09:00:00+00' + (i / 7) * interval '1 second'
        from generate_series(501, 530) i;
    `);
      const next = await run(yaml, state);
      expect(next.report).toMatchObject({ rowsRead: 34, window: { after: '2025-11-22 08:01:11+00' } });
      expect((await stats()).accepted - afterFirst.accepted).toBe(30);
    });

    it('syncs a companies table to group profiles and a users table with every profile operation, changed rows only', async () => {
      await server.sql(`
      create table companies (company_id text primary key, name text, domains text[], lost_domain text, legacy text);
      insert into companies values ('C1', 'Acme', array['acme.test'], null, null), ('C2', 'Globex', null, null, null);
      create table users (id text primary key, plan text, first_seen date, logins integer, tags text[], dropped text);
      insert into users values ('U1', 'pro', '2025-01-01', 3, array['a'], null);
    `);
      const groups = [
        'name: companies',
        'mode: simplified',
        'source: { type: postgres, table: companies, primary_key: company_id }',
        'mapping:',
        '  type: groups',
        '  group_key: company_id',
        '  group_id: company_id',
        '  operations: { domains: $union, lost_domain: $remove, legacy: $unset }',
        '  properties: { rename: { lost_domain: domains } }',
      ].join('\n');
      const groupState = mkdtempSync(join(tmpdir(), 'pg-state-'));
      const first = await run(groups, groupState);
      expect(first.report).toMatchObject({ rowsRead: 2, invalid: 0, payloads: 3 });
      await server.sql(
        `update companies set domains = array['acme.io'], lost_domain = 'acme.test', legacy = 'name' where company_id = 'C1'`,
      );
      const second = await run(groups, groupState);
      expect(second.report).toMatchObject({ rowsRead: 2, unchanged: 1 });
      const stored = (await (await fetch(`${sandbox.url}/_sandbox/groups`)).json()) as Record<
        string,
        unknown
      >;
      expect(stored['company_id/C1']).toEqual({ domains: ['acme.io'] });
      expect(stored['company_id/C2']).toEqual({ name: 'Globex' });

      const users = [
        'name: users',
        'mode: simplified',
        'source: { type: postgres, table: users, primary_key: id }',
        'mapping:',
        '  type: profiles',
        '  user_id: id',
        '  operations: { first_seen: $set_once, logins: $add, tags: $union, dropped: $remove }',
        '  properties: { rename: { dropped: tags } }',
      ].join('\n');
      const userState = mkdtempSync(join(tmpdir(), 'pg-state-'));
      await run(users, userState);
      await server.sql(
        `update users set plan = 'team', first_seen = '2025-06-01', logins = 2, tags = array['b'], dropped = 'a'`,
      );
      await run(users, userState);
      const profiles = (await (await fetch(`${sandbox.url}/_sandbox/profiles`)).json()) as Record<
        string,
        unknown
      >;
      expect(profiles.U1).toEqual({ plan: 'team', first_seen: '2025-01-01', logins: 5, tags: ['b'] });
    });
  },
);

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import Cursor from 'pg-cursor';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseSyncDefinition } from '../src/definition.js';
import { createSource } from '../src/sources/create.js';
import {
  createPostgresSource,
  postgresOptionsFrom,
  type PostgresSourceOptions,
} from '../src/sources/postgres.js';
import { Secret } from '../src/sources/secret.js';
import type { Page, ReadWindow, Row, WarehouseSource } from '../src/sources/source.js';
import { createSourceInWorker } from '../src/worker/source-in-worker.js';
import { SUITE_ROWS, sourceSuite } from './source-suite.js';
import { freePort, postgresOrSkip, startPostgres, type RunningPostgres } from './support/postgres-server.js';

const available = postgresOrSkip();
const describePostgres = 'skip' in available ? describe.skip : describe;
const ENTRY = new URL('./fakes/source-worker-entry.mjs', import.meta.url);

let server: RunningPostgres;

beforeAll(async () => {
  if ('skip' in available) return;
  server = await startPostgres();
  await server.sql(`
    create table events (event_id integer primary key, updated_at timestamp, user_id text);
    create table precise_events (event_id integer primary key, updated_at timestamptz);
    insert into precise_events
      select i, timestamptz '2025-11-22 08:00:00+00' + (i / 2) * interval '1 microsecond' from generate_series(1, 7) i;
    create table typed_values (
      id bigint primary key, big bigint, amount numeric(12, 2), huge numeric(40, 0), ratio double precision,
      seen_at timestamptz, local_at timestamp, day date, flag boolean, note text, doc jsonb, raw json,
      tags text[], counts integer[], moments timestamptz[], uid uuid, span interval, blob bytea);
    insert into typed_values values
      (1, 9007199254740993, 12.50, 123456789012345678901234567890, 0.25,
       '2025-11-22 08:00:00.123456+02', '2025-11-22 08:00:00.5', '2025-11-22', true, 'a "quoted" text',
       '{"plan": "pro", "seats": 3, "nested": {"ok": true}}', '[1, "two"]',
       array['a', 'b,c', null], array[1, 2, 3], array[timestamptz '2025-11-22 08:00:00+00'],
       '8a3f1c2e-1d2b-4c3d-9e8f-0a1b2c3d4e5f', interval '1 day 2 hours', '\\x0102'),
      (2, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null);
    create schema sales;
    create table sales.orders (order_id text primary key, placed_at date);
    insert into sales.orders values ('o-1', '2025-11-21'), ('o-2', '2025-11-22');
    create table "Shouting" ("OrderId" integer primary key);
    create table keyless (id integer, updated_at timestamp);
    insert into keyless values (1, '2025-11-22 08:00:00'), (null, '2025-11-22 08:00:00'),
      (2, '2025-11-22 08:01:00'), (null, '2025-11-22 08:01:00'), (3, '2025-11-22 08:01:00'),
      (null, null), (4, null), (5, '2025-11-22 08:02:00');
    create table awkward_text (id integer primary key, body text, doc jsonb, tags text[], blob bytea);
    insert into awkward_text values
      (1, 'say "hi", (twice)\\ then\ttab and
newline', '{"a": "q\\"uote", "b": [1, "x,y"]}', array['a "b"', 'c\\d', '', null], '\\x5c22'),
      (2, '', '{}', array[]::text[], '\\x'),
      (3, '  spaced  ', 'null', array['(', ')', ','], null),
      (4, 'ünïcode ✓ 🚀', '"text"', null, '\\x00ff'),
      (5, null, null, array[null]::text[], null);
    create table text_cursor (id integer primary key, changed text);
    insert into text_cursor values (1, '2025-11-22T08:00:00Z'), (2, '2025-11-22 09:00:00'), (3, null),
      (4, '2025-11-22T10:00:00+02:00');
  `);
  for (const row of SUITE_ROWS)
    await server.sql('insert into events values ($1, $2, $3)', [row.event_id, row.updated_at, row.user_id]);
});

afterAll(async () => {
  await server?.stop();
});

function options(overrides: Partial<PostgresSourceOptions> = {}): PostgresSourceOptions {
  return {
    flavour: 'postgres',
    host: server.host,
    port: server.port,
    database: server.database,
    user: server.user,
    password: new Secret(server.password),
    ssl: 'prefer',
    statementTimeoutMs: 60_000,
    table: 'events',
    cursor: 'updated_at',
    primaryKey: 'event_id',
    ...overrides,
  };
}

async function withSource<T>(source: WarehouseSource, use: (s: WarehouseSource) => Promise<T>): Promise<T> {
  await source.connect();
  try {
    return await use(source);
  } finally {
    await source.close();
  }
}

async function readAll(source: WarehouseSource, window: ReadWindow, maxPages = 1000): Promise<Row[][]> {
  const pages: Row[][] = [];
  for await (const page of source.pages(window)) {
    pages.push(page.rows);
    if (pages.length > maxPages) throw new Error(`more than ${maxPages} pages: the paging does not advance`);
  }
  return pages;
}

const ids = (pages: Row[][]) => pages.map((page) => page.map((row) => Number(row.event_id ?? row.id)));

/** The source with every window naming its columns, as a sync's windows do (all of them, here). */
function namingColumns(source: WarehouseSource): WarehouseSource {
  return { ...source, pages: (window) => source.pages({ ...window, columns: (available) => available }) };
}

describePostgres(`PostgreSQL ${'skip' in available ? `(${available.skip})` : ''}`, () => {
  sourceSuite('PostgreSQL (table)', async () => createPostgresSource(options()));
  sourceSuite('PostgreSQL (table, columns named: a row read as one record text)', async () =>
    namingColumns(createPostgresSource(options())),
  );
  sourceSuite('PostgreSQL (query, Redshift dialect)', async () =>
    createPostgresSource(options({ flavour: 'redshift', table: undefined, query: 'select * from events;' })),
  );

  describe('values', () => {
    it('arrive as the mapping expects them, every type a mapping reads, NULLs as null', async () => {
      const source = createPostgresSource(
        options({ table: 'typed_values', cursor: undefined, primaryKey: 'id' }),
      );
      const [rows] = await withSource(source, (s) => readAll(s, { pageSize: 10 }));
      expect(rows).toHaveLength(2);
      const row = rows?.[0] ?? {};
      expect(row).toMatchObject({
        id: 1,
        big: 9007199254740993n,
        amount: 12.5,
        huge: 123456789012345678901234567890n,
        ratio: 0.25,
        // timestamp without a zone: its wall-clock text, for mapping.time_zone.
        local_at: '2025-11-22T08:00:00.5',
        day: '2025-11-22',
        flag: true,
        note: 'a "quoted" text',
        doc: { plan: 'pro', seats: 3, nested: { ok: true } },
        raw: [1, 'two'],
        tags: ['a', 'b,c', null],
        counts: [1, 2, 3],
        uid: '8a3f1c2e-1d2b-4c3d-9e8f-0a1b2c3d4e5f',
        span: 'P1DT2H',
      });
      expect(row.seen_at).toEqual(new Date('2025-11-22T06:00:00.123Z'));
      expect(row.moments).toEqual([new Date('2025-11-22T08:00:00.000Z')]);
      expect(Buffer.from(row.blob as Uint8Array).toString('hex')).toBe('0102');
      expect(Object.keys(row)).not.toContain('__idmerge_key');
      expect(Object.values(rows?.[1] ?? {}).slice(1)).toEqual(new Array(17).fill(null));
    });

    it('reads the same values from a row read as one record text (columns named), however awkward the text', async () => {
      const read = vi.spyOn(Cursor.prototype, 'read');
      try {
        for (const table of ['typed_values', 'awkward_text']) {
          const source = () => createPostgresSource(options({ table, cursor: undefined, primaryKey: 'id' }));
          const byColumn = await withSource(source(), (s) => readAll(s, { pageSize: 10 }));
          const asRecords = await withSource(namingColumns(source()), (s) => readAll(s, { pageSize: 10 }));
          expect(asRecords).toEqual(byColumn);
          // Redshift has no record text: it reads column by column, named or not (its session
          // leaves intervals in PostgreSQL's style, so only the table without one is compared).
          if (table !== 'awkward_text') continue;
          const redshift = createPostgresSource(
            options({ flavour: 'redshift', table, cursor: undefined, primaryKey: 'id' }),
          );
          expect(await withSource(namingColumns(redshift), (s) => readAll(s, { pageSize: 10 }))).toEqual(
            byColumn,
          );
        }
        // Each fetched row of a named read is one value.
        const fetched = await Promise.all(
          read.mock.results.map((result) => result.value as Promise<unknown[][]>),
        );
        expect(fetched.some((rows) => rows.length > 0 && rows.every((row) => row.length === 1))).toBe(true);
      } finally {
        read.mockRestore();
      }
      const [awkward] = await withSource(
        namingColumns(
          createPostgresSource(options({ table: 'awkward_text', cursor: undefined, primaryKey: 'id' })),
        ),
        (s) => readAll(s, { pageSize: 10 }),
      );
      expect(awkward?.map((row) => row.body)).toEqual([
        'say "hi", (twice)\\ then\ttab and\nnewline',
        '',
        '  spaced  ',
        'ünïcode ✓ 🚀',
        null,
      ]);
      expect(awkward?.[0]).toMatchObject({
        doc: { a: 'q"uote', b: [1, 'x,y'] },
        tags: ['a "b"', 'c\\d', '', null],
      });
      expect(Buffer.from(awkward?.[0]?.blob as Uint8Array).toString('hex')).toBe('5c22');
      expect(awkward?.[2]).toMatchObject({ doc: null, tags: ['(', ')', ','] });
      expect(awkward?.[4]).toMatchObject({ tags: [null], blob: null });
    });

    it('reads rows whose key is NULL last, in pages without a position, and never resumes on one', async () => {
      const keyless = () => createPostgresSource(options({ table: 'keyless', primaryKey: 'id' }));
      const pages: Page[] = [];
      await withSource(keyless(), async (s) => {
        for await (const page of s.pages({ pageSize: 2 })) pages.push(page);
      });
      const keys = pages.map((page) => page.rows.map((row) => row.id));
      // The window (1, 2, 3, 5), the NULL cursor (4), then the three rows without a key.
      expect(keys.flat()).toEqual([1, 2, 3, 5, 4, null, null, null]);
      for (const page of pages) {
        if (page.rows.some((row) => row.id === null)) expect(page.last).toBeUndefined();
        else expect(page.last?.key).toBe(String(page.rows.at(-1)?.id));
      }
      // From every position a run can hold, the rest is read exactly once.
      for (const [index, page] of pages.entries()) {
        if (page.last === undefined) continue;
        const rest = await withSource(keyless(), (s) => readAll(s, { pageSize: 2, from: page.last }));
        expect(rest.flat().map((row) => row.id)).toEqual(keys.slice(index + 1).flat());
      }
    });

    it('keeps sub-millisecond cursor values exact, so a page never starts over or skips', async () => {
      const source = createPostgresSource(options({ table: 'precise_events' }));
      const pages = await withSource(source, (s) => readAll(s, { pageSize: 1 }, 20));
      expect(ids(pages).flat()).toEqual([1, 2, 3, 4, 5, 6, 7]);
      const max = await withSource(createPostgresSource(options({ table: 'precise_events' })), (s) =>
        s.maxCursor(),
      );
      expect(max).toBe('2025-11-22 08:00:00.000003+00');
    });

    it('moves a number cursor back by the lookback, a date cursor by seconds, and refuses a text cursor that is not ISO-8601', async () => {
      const numeric = createPostgresSource(options({ cursor: 'event_id' }));
      const read = await withSource(numeric, (s) =>
        readAll(s, { pageSize: 100, after: '5', lookbackSeconds: 2 }),
      );
      // The lower bound is inclusive: [5 − 2, …].
      expect(ids(read).flat()).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
      const dated = createPostgresSource(
        options({ schema: 'sales', table: 'orders', cursor: 'placed_at', primaryKey: 'order_id' }),
      );
      const orders = await withSource(dated, (s) =>
        readAll(s, { pageSize: 100, after: '2025-11-22', lookbackSeconds: 86_400 }),
      );
      expect(orders.flat().map((row) => row.order_id)).toEqual(['o-1', 'o-2']);
      const text = createPostgresSource(options({ cursor: 'user_id' }));
      await expect(withSource(text, (s) => s.maxCursor())).rejects.toThrow(
        /cursor "user_id" is text and 10 of its values are not ISO-8601 timestamps \(e.g. "U1"\)/,
      );
    });

    it('reads an ISO-8601 text cursor as a timestamp, and rows with a NULL cursor after the window', async () => {
      const source = createPostgresSource(
        options({ table: 'text_cursor', cursor: 'changed', primaryKey: 'id' }),
      );
      await withSource(source, async (s) => {
        const upTo = await s.maxCursor();
        expect(upTo).toBe('2025-11-22 09:00:00+00');
        const pages: Array<{ ids: number[]; nullCursor: boolean }> = [];
        for await (const page of s.pages({ pageSize: 10, upTo, after: '2025-11-22 08:00:00+00' }))
          pages.push({ ids: page.rows.map((row) => Number(row.id)), nullCursor: page.nullCursor === true });
        // 10:00+02:00 is 08:00 UTC: the same instant as row 1, so it sorts beside it.
        expect(pages).toEqual([
          { ids: [1, 4, 2], nullCursor: false },
          { ids: [3], nullCursor: true },
        ]);
      });
    });

    it('reads in a read-only transaction, with the statement timeout set', async () => {
      const query =
        "select event_id, current_setting('transaction_read_only') as ro, current_setting('statement_timeout') as timeout, " +
        "current_setting('TimeZone') as zone from events";
      const source = createPostgresSource(
        options({ table: undefined, query, cursor: undefined, statementTimeoutMs: 90_000 }),
      );
      const [rows] = await withSource(source, (s) => readAll(s, { pageSize: 100 }));
      expect(rows?.[0]).toEqual({ event_id: 1, ro: 'on', timeout: '90s', zone: 'UTC' });
    });

    it('asks for the next fetch before handing on a page, and a reader that stops then leaves the session usable', async () => {
      const read = vi.spyOn(Cursor.prototype, 'read');
      try {
        const source = createPostgresSource(options());
        await withSource(source, async (s) => {
          const upTo = await s.maxCursor();
          for await (const page of s.pages({ pageSize: 2, upTo })) {
            // Fetches of 2 rows: the first page waits for the second fetch (which shows whether its last
            // position goes on); the third is already asked for while the first is being handed on.
            expect(page.rows.map((row) => row.event_id)).toHaveLength(2);
            expect(read).toHaveBeenCalledTimes(3);
            break;
          }
          // The fetch left in flight is closed with the window; the next statement runs as usual.
          expect(await s.maxCursor()).toBe(upTo);
          expect(ids(await readAll(s, { pageSize: 100, upTo })).flat()).toEqual(
            SUITE_ROWS.map((row) => row.event_id),
          );
        });
      } finally {
        read.mockRestore();
      }
    });

    it('stops a statement that runs past the timeout, naming source.statement_timeout', async () => {
      const query = 'select event_id, pg_sleep(1) as nap from events';
      const source = createPostgresSource(
        options({ table: undefined, query, cursor: undefined, statementTimeoutMs: 300 }),
      );
      await expect(withSource(source, (s) => readAll(s, { pageSize: 100 }))).rejects.toThrow(
        /statement timeout \(0.3 s\).*raise source.statement_timeout/,
      );
    });
  });

  describe('errors name the definition key at fault', () => {
    it('a port nothing listens on: source.host and source.port', async () => {
      const closed = await freePort();
      await expect(createPostgresSource(options({ port: closed })).connect()).rejects.toThrow(
        /cannot reach 127\.0\.0\.1:\d+: .*ECONNREFUSED.*check source.host and source.port \(or PGHOST and PGPORT\)/,
      );
    });

    it('a wrong password, or none: the user and the password variables, never the password', async () => {
      const wrong = createPostgresSource(options({ password: new Secret('not-the-password') }));
      const error = await wrong.connect().then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error?.message).toMatch(/refused user "idmerge".*28P01.*PGPASSWORD or PGPASSWORD_FILE/);
      expect(error?.message).not.toContain('not-the-password');
      await expect(createPostgresSource(options({ password: undefined })).connect()).rejects.toThrow(
        /the server asks for a password; set PGPASSWORD or PGPASSWORD_FILE/,
      );
    });

    it('a missing database, schema, table or column', async () => {
      await expect(createPostgresSource(options({ database: 'nowhere' })).connect()).rejects.toThrow(
        /database "nowhere" does not exist.*check source.database \(or PGDATABASE\)/,
      );
      await expect(createPostgresSource(options({ schema: 'nope' })).connect()).rejects.toThrow(
        /source.schema "nope" does not exist in database "warehouse"/,
      );
      await expect(createPostgresSource(options({ table: 'no_such_table' })).connect()).rejects.toThrow(
        /source.table "no_such_table" failed while describing its columns: relation "no_such_table" does not exist \(SQLSTATE 42P01\)/,
      );
      await expect(createPostgresSource(options({ cursor: 'changed_at' })).connect()).rejects.toThrow(
        /source.cursor "changed_at": source.table "events" has no such column; it has event_id, updated_at, user_id/,
      );
      await expect(
        createPostgresSource(
          options({ table: '"Shouting"', cursor: undefined, primaryKey: 'orderid' }),
        ).connect(),
      ).rejects.toThrow(/source.primary_key "orderid": the column is called "OrderId"/);
      await expect(
        createPostgresSource(
          options({ table: undefined, query: 'select event_id from events wher 1' }),
        ).connect(),
      ).rejects.toThrow(/source.query failed while describing its columns: syntax error/);
    });

    it('a mapping column the table lacks, before any row is read', async () => {
      const definition = parseSyncDefinition(
        [
          'name: pg-events',
          'mode: simplified',
          `source: { type: postgres, table: events, cursor: updated_at, primary_key: event_id, ssl: disable }`,
          'mapping: { type: events, event: { value: Seen }, time: seen_at, time_zone: UTC, user_id: user_id }',
        ].join('\n'),
      );
      const source = createSource(definition, '.', server.env);
      await expect(source.connect()).rejects.toThrow(
        /mapping.time "seen_at": source.table "events" has no such column/,
      );
    });
  });

  describe('SSL, as libpq means each mode', () => {
    it('verify-full checks the certificate against ssl_root_cert; verify-ca refuses another authority', async () => {
      const verified = createPostgresSource(options({ ssl: 'verify-full', sslRootCert: server.certificate }));
      expect(await withSource(verified, (s) => s.maxCursor())).toMatch(/^2025-11-22 08:06:00/);
      const otherCa = (await import('selfsigned')).generate([{ name: 'commonName', value: 'elsewhere' }], {
        keySize: 2048,
      });
      const wrongCa = createPostgresSource(options({ ssl: 'verify-ca', sslRootCert: (await otherCa).cert }));
      await expect(wrongCa.connect()).rejects.toThrow(
        /source.ssl verify-ca: the server's certificate was not accepted/,
      );
    });

    it('require refuses a server without SSL; prefer falls back to plain; disable never asks', async () => {
      await server.sql('alter system set ssl = off');
      await server.sql('select pg_reload_conf()');
      try {
        await new Promise((resolve) => setTimeout(resolve, 300));
        await expect(createPostgresSource(options({ ssl: 'require' })).connect()).rejects.toThrow(
          /source.ssl is require but 127\.0\.0\.1:\d+ does not accept SSL connections/,
        );
        for (const ssl of ['prefer', 'disable'] as const)
          expect(
            await withSource(createPostgresSource(options({ ssl })), (s) => s.maxCursor()),
          ).toBeDefined();
      } finally {
        await server.sql('alter system reset ssl');
        await server.sql('select pg_reload_conf()');
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    });
  });

  describe('settings from the definition and libpq’s variables', () => {
    const definitionSource = (yaml: string) => {
      const definition = parseSyncDefinition(
        `name: s\nmode: simplified\nsource: ${yaml}\nmapping: { type: profiles, user_id: user_id }\n`,
      );
      if (definition.source.type !== 'postgres' && definition.source.type !== 'redshift')
        throw new Error('type');
      return definition.source;
    };

    it('falls back to PGHOST, PGPORT, PGDATABASE, PGUSER; the definition wins; the password only from the environment', () => {
      const env = {
        PGHOST: 'db.internal',
        PGPORT: '6543',
        PGDATABASE: 'dw',
        PGUSER: 'reader',
        PGPASSWORD: 'pw',
      };
      const fromEnv = postgresOptionsFrom(
        definitionSource('{ type: postgres, table: t, primary_key: id }'),
        env,
      );
      expect(fromEnv).toMatchObject({
        host: 'db.internal',
        port: 6543,
        database: 'dw',
        user: 'reader',
        ssl: 'prefer',
      });
      expect(fromEnv.password?.reveal()).toBe('pw');
      expect(JSON.stringify(fromEnv)).not.toContain('"pw"');
      const written = postgresOptionsFrom(
        definitionSource(
          '{ type: postgres, host: h, port: 5433, database: d, user: u, table: t, primary_key: id }',
        ),
        env,
      );
      expect(written).toMatchObject({ host: 'h', port: 5433, database: 'd', user: 'u' });
      expect(() =>
        parseSyncDefinition(
          'name: s\nmode: simplified\nsource: { type: postgres, password: x, table: t, primary_key: id }\nmapping: { type: profiles, user_id: u }\n',
        ),
      ).toThrow(/source: Unrecognized key: "password"/);
    });

    it('reads PGPASSWORD_FILE, refuses both, and names a missing database or user', () => {
      const dir = mkdtempSync(join(tmpdir(), 'pg-secret-'));
      const file = join(dir, 'password');
      writeFileSync(file, 'from-file\n', { mode: 0o600 });
      const source = definitionSource('{ type: postgres, database: d, user: u, table: t, primary_key: id }');
      expect(postgresOptionsFrom(source, { PGPASSWORD_FILE: file }).password?.reveal()).toBe('from-file');
      expect(() => postgresOptionsFrom(source, { PGPASSWORD_FILE: file, PGPASSWORD: 'x' })).toThrow(
        /set PGPASSWORD or PGPASSWORD_FILE, not both/,
      );
      expect(() => postgresOptionsFrom(source, { PGPASSWORD_FILE: join(dir, 'missing') })).toThrow(
        /PGPASSWORD_FILE: cannot read .*missing \(ENOENT\)/,
      );
      const bare = definitionSource('{ type: postgres, table: t, primary_key: id }');
      expect(() => postgresOptionsFrom(bare, { PGUSER: 'u' })).toThrow(
        /postgres source: database is missing; write source.database in the definition or set PGDATABASE/,
      );
      expect(() => postgresOptionsFrom(bare, { PGDATABASE: 'd' })).toThrow(/user is missing.*PGUSER/);
      expect(() =>
        postgresOptionsFrom(
          definitionSource('{ type: postgres, ssl: verify-full, table: t, primary_key: id }'),
          {
            PGDATABASE: 'd',
            PGUSER: 'u',
          },
        ),
      ).toThrow(
        /ssl: verify-full verifies the server's certificate; name .* source.ssl_root_cert or PGSSLROOTCERT/,
      );
    });

    it('Redshift: port 5439 and SSL required unless said otherwise', () => {
      const redshift = postgresOptionsFrom(
        definitionSource(
          '{ type: redshift, host: c.abc.eu-west-1.redshift.amazonaws.com, database: dev, user: u, table: t, primary_key: id }',
        ),
        {},
      );
      expect(redshift).toMatchObject({ flavour: 'redshift', port: 5439, ssl: 'require' });
      expect(
        postgresOptionsFrom(
          definitionSource('{ type: postgres, database: d, user: u, table: t, primary_key: id }'),
          {},
        ),
      ).toMatchObject({ port: 5432, ssl: 'prefer', host: 'localhost' });
    });
  });

  describe('Redshift', () => {
    afterEach(() => {
      vi.restoreAllMocks();
    });

    it('sends only statements Redshift accepts: no isolation levels, intervalstyle, row comparisons or :: casts', async () => {
      const sent: string[] = [];
      const query = pg.Client.prototype.query;
      vi.spyOn(pg.Client.prototype, 'query').mockImplementation(function (
        this: pg.Client,
        ...args: unknown[]
      ) {
        const first = args[0] as string | { text?: string };
        sent.push(typeof first === 'string' ? first : (first.text ?? ''));
        return (query as (...a: unknown[]) => unknown).apply(this, args);
      } as typeof query);
      const source = createPostgresSource(options({ flavour: 'redshift', schema: 'public' }));
      const pages = await withSource(source, async (s) => {
        const upTo = await s.maxCursor();
        const first = await s
          .pages({ pageSize: 4, upTo, after: '2025-11-22 08:00:00', lookbackSeconds: 60 })
          .next();
        return readAll(s, {
          pageSize: 4,
          upTo,
          from: first.value?.last,
          shard: { index: 0, count: 1, column: 'user_id' },
        });
      });
      expect(ids(pages).flat()).toEqual([5, 6, 7, 8, 9, 10]);
      expect(sent.length).toBeGreaterThan(5);
      for (const statement of sent) {
        expect(statement).not.toMatch(/isolation level|intervalstyle|::|\) > \(|\bas text\b/i);
        expect(statement).toMatch(
          /^(set (timezone|datestyle|extra_float_digits|statement_timeout|search_path) to |begin read only$|commit$|rollback$|select )/,
        );
      }
      expect(sent).toContain('begin read only');
    });
  });

  describe('in a worker thread', () => {
    it('reads and maps there, with the connection settings from the worker’s environment', async () => {
      const definition = parseSyncDefinition(
        [
          'name: pg-worker',
          'mode: simplified',
          'page_size: 3',
          'source: { type: postgres, table: events, cursor: updated_at, primary_key: event_id }',
          'mapping: { type: events, event: { value: Seen }, time: updated_at, time_zone: UTC, user_id: user_id, insert_id: event_id }',
        ].join('\n'),
      );
      const source = createSourceInWorker(definition, '.', {
        entry: ENTRY,
        env: { ...process.env, ...server.env },
      });
      await source.connect();
      try {
        expect(await source.maxCursor()).toBe('2025-11-22 08:06:00');
        const events = [];
        for await (const page of source.mappedPages({ pageSize: 3 }))
          for (const row of page.rows)
            if (row.kind === 'send') events.push(...row.events.map((e) => JSON.parse(e)));
        expect(events.map((e: { properties: { $user_id: string } }) => e.properties.$user_id)).toEqual(
          SUITE_ROWS.map((row) => row.user_id),
        );
        expect(events[0]).toMatchObject({
          event: 'Seen',
          properties: { time: Date.parse('2025-11-22T08:00:00Z'), $insert_id: '1' },
        });
      } finally {
        await source.close();
      }
    });
  });
});

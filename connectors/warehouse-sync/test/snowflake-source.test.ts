import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDeadLetterList, createSender, startSandbox } from '@idmerge/shared';
import { parseSyncDefinition } from '../src/definition.js';
import { runSync } from '../src/run.js';
import { createSource } from '../src/sources/create.js';
import { Secret } from '../src/sources/secret.js';
import { createSnowflakeSource, type SnowflakeSourceOptions } from '../src/sources/snowflake.js';
import type { ReadWindow, WarehouseSource } from '../src/sources/source.js';
import { StateStore } from '../src/state.js';
import { guardLoopback } from './loopback-guard.js';
import { startFakeSnowflake, type FakeSnowflake } from './fakes/snowflake-server.js';
import { SUITE_ROWS, sourceSuite } from './source-suite.js';

// Every socket this file opens is checked: only loopback addresses may be reached.
const { reached, refused, restore: restoreConnect } = guardLoopback();

const ACCOUNT = 'acme';
const USER = 'loader';
const PASSWORD = 'pw-Sup3r-Secr3t';
const keyUser = 'key_loader';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const logFile = resolve('snowflake.log');
const logFileExisted = existsSync(logFile);

let fake: FakeSnowflake;

beforeAll(async () => {
  fake = await startFakeSnowflake({
    account: ACCOUNT,
    users: {
      [USER]: { password: PASSWORD },
      [keyUser]: { publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString() },
    },
    // Small on purpose: pages of more than three rows come partly from gzip result chunks.
    inlineRows: 3,
    chunkRows: 4,
  });
  const run = (sql: string) => fake.warehouse.run(sql);
  await run('create table events (event_id integer, updated_at timestamp, user_id varchar)');
  for (const row of SUITE_ROWS) {
    await fake.warehouse.run('insert into events values (?, cast(? as timestamp), ?)', [
      row.event_id,
      row.updated_at,
      row.user_id,
    ]);
  }
  await run(
    `create table big_events as select i as event_id, timestamp '2025-11-22 00:00:00' + to_seconds(i // 3) as updated_at,
       'U' || i as user_id, repeat('x', 40) as note from range(1, 2501) t(i)`,
  );
  await run(
    `create table precise_events as select i as event_id,
       timestamp '2025-11-22 08:00:00' + to_microseconds(100 * (i // 2)) as updated_at from range(1, 8) t(i)`,
  );
  await run(
    `create table typed_values (id bigint, big_id decimal(38, 0), amount decimal(10, 2), ratio double,
       seen_at timestamp, day date, flag boolean, note varchar)`,
  );
  await run(
    `insert into typed_values values (1, 9007199254740993, 12.50, 0.25, timestamp '2025-11-22 08:00:00.123456',
       date '2025-11-22', true, null), (2, null, null, null, null, null, null, 'NULL')`,
  );
  await run('create table upper_events ("EVENT_ID" integer, "UPDATED_AT" timestamp)');
});

afterAll(async () => {
  restoreConnect();
  await fake?.close();
});

function options(overrides: Partial<SnowflakeSourceOptions> = {}): SnowflakeSourceOptions {
  return {
    account: ACCOUNT,
    user: USER,
    warehouse: 'FAKE_WH',
    accessUrl: fake.url,
    auth: { type: 'password', password: new Secret(PASSWORD) },
    table: 'events',
    cursor: 'updated_at',
    primaryKey: 'event_id',
    ...overrides,
  };
}

async function withSource<T>(source: WarehouseSource, run: (s: WarehouseSource) => Promise<T>): Promise<T> {
  await source.connect();
  try {
    return await run(source);
  } finally {
    await source.close();
  }
}

async function allIds(source: WarehouseSource, window: ReadWindow, maxPages = 1000): Promise<number[][]> {
  const pages: number[][] = [];
  for await (const page of source.pages(window)) {
    pages.push(page.rows.map((row) => Number(row.event_id)));
    if (pages.length > maxPages) throw new Error(`more than ${maxPages} pages: the paging does not advance`);
  }
  return pages;
}

sourceSuite('Snowflake (fake server)', async () => createSnowflakeSource(options()));

describe('Snowflake source through the driver', () => {
  it('reads a large page from gzip result chunks the driver downloads', async () => {
    const before = fake.chunkDownloads.length;
    const pages = await withSource(createSnowflakeSource(options({ table: 'big_events' })), (source) =>
      allIds(source, { pageSize: 1000 }),
    );
    expect(pages.map((page) => page.length)).toEqual([1000, 1000, 500]);
    expect(pages.flat()).toEqual(Array.from({ length: 2500 }, (_, i) => i + 1));
    // Each page: 3 rows inline, the rest in chunks of 4.
    expect(fake.chunkDownloads.length - before).toBe(250 + 250 + 125);
  });

  it('waits for a statement Snowflake answers "in progress", fetching its result URL', async () => {
    fake.answerInProgress(/order by .* limit 5$/, 2);
    const polls = () => fake.requests.filter((r) => /^GET \/queries\/[\w-]+\/result$/.test(r)).length;
    const before = polls();
    const pages = await withSource(createSnowflakeSource(options()), (source) =>
      allIds(source, { pageSize: 4 }),
    );
    expect(pages).toEqual([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
      [9, 10],
    ]);
    expect(polls() - before).toBe(2);
  });

  it('keeps sub-millisecond cursor values exact, so a page never starts over', async () => {
    const source = createSnowflakeSource(options({ table: 'precise_events' }));
    const pages = await withSource(source, (s) => allIds(s, { pageSize: 1 }, 20));
    expect(pages.flat()).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('moves a numeric cursor back by the lookback, and refuses a text cursor that is not ISO-8601 before reading', async () => {
    const numeric = createSnowflakeSource(options({ cursor: 'event_id' }));
    const ids = await withSource(numeric, (s) =>
      allIds(s, { pageSize: 100, after: '5', lookbackSeconds: 2 }),
    );
    expect(ids.flat()).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
    const text = createSnowflakeSource(options({ cursor: 'user_id' }));
    await expect(withSource(text, (s) => s.maxCursor())).rejects.toThrow(
      /cursor "user_id" is VARCHAR and 10 of its values are not ISO-8601 timestamps \(e\.g\. "U1"\).*to_timestamp\("user_id"/,
    );
  });

  it('returns values as the sink expects: exact integers, numbers, plain Dates, booleans, nulls', async () => {
    const source = createSnowflakeSource(
      options({ table: 'typed_values', cursor: undefined, primaryKey: 'id' }),
    );
    const rows = await withSource(source, async (s) => {
      const read = [];
      for await (const page of s.pages({ pageSize: 10 })) read.push(...page.rows);
      return read;
    });
    expect(rows).toHaveLength(2);
    const row = rows[0] ?? {};
    expect(row).toMatchObject({
      id: 1,
      big_id: 9007199254740993n,
      amount: 12.5,
      ratio: 0.25,
      flag: true,
      note: null,
    });
    expect(row.seen_at).toBeInstanceOf(Date);
    // A plain Date: its JSON is ISO 8601, not the session's output format.
    expect(JSON.stringify(row.seen_at)).toBe('"2025-11-22T08:00:00.123Z"');
    expect(JSON.stringify(row.day)).toBe('"2025-11-22T00:00:00.000Z"');
    expect(Object.keys(row)).not.toContain('__idmerge_cursor');
    // Nulls stay null (numbers are fetched as text, where the driver would say "NULL"); text stays text.
    expect(rows[1]).toEqual({
      id: 2,
      big_id: null,
      amount: null,
      ratio: null,
      seen_at: null,
      day: null,
      flag: null,
      note: 'NULL',
    });
  });

  it('reads a query, even one ending with a semicolon as copied from a worksheet', async () => {
    const query = `select event_id, user_id from events where user_id <> 'U3';  \n`;
    const source = createSnowflakeSource(options({ table: undefined, query, cursor: undefined }));
    const ids = await withSource(source, (s) => allIds(s, { pageSize: 5 }));
    expect(ids).toEqual([
      [1, 2, 4, 5, 6],
      [7, 8, 9, 10],
    ]);
  });

  it('names the query problem when Snowflake refuses a statement', async () => {
    const source = createSnowflakeSource(options({ table: 'missing_events' }));
    const error = await source.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(String(error)).toMatch(
      /Snowflake query failed while describing the query: SQL compilation error:\s+Object 'MISSING_EVENTS' does not exist or not authorized\. \(code 002003, SQL state 42S02\)/,
    );
    expect(fake.openSessions()).toBe(0); // the failed connect logged out
  });

  it('refuses a column named in another case than Snowflake reports, naming the spelling to use', async () => {
    const source = createSnowflakeSource(options({ table: 'upper_events', cursor: 'updated_at' }));
    await expect(source.connect()).rejects.toThrow(
      /primary_key "event_id": Snowflake reports this column as "EVENT_ID"; write it that way, or alias it/,
    );
  });

  it('fails at connect on a wrong password with Snowflake reason, and the password shows nowhere', async () => {
    const written: string[] = [];
    const capture = (stream: NodeJS.WriteStream) =>
      vi.spyOn(stream, 'write').mockImplementation((chunk: unknown) => {
        written.push(String(chunk));
        return true;
      });
    const spies = [capture(process.stdout), capture(process.stderr)];
    const wrong = 'Wr0ng-Passw0rd-123';
    let error: unknown;
    try {
      await createSnowflakeSource(options({ auth: { type: 'password', password: new Secret(wrong) } }))
        .connect()
        .catch((e: unknown) => (error = e));
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    expect(error).toBeInstanceOf(Error);
    const { message, stack } = error as Error;
    expect(message).toBe(
      `Snowflake login failed for user "${USER}" on account "${ACCOUNT}": ` +
        'Incorrect username or password was specified. (code 390100)',
    );
    for (const text of [message, stack ?? '', written.join('')]) {
      expect(text).not.toContain(wrong);
      expect(text).not.toContain(PASSWORD);
    }
  });

  it('signs in with a key pair (a JWT the server checks against the public key)', async () => {
    const keyAuth = (key: typeof privateKey) =>
      options({
        user: keyUser,
        auth: {
          type: 'key-pair',
          privateKey: new Secret(key.export({ type: 'pkcs8', format: 'pem' }).toString()),
        },
      });
    const max = await withSource(createSnowflakeSource(keyAuth(privateKey)), (s) => s.maxCursor());
    expect(max).toBe('2025-11-22 08:06:00.000000000');
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    await expect(createSnowflakeSource(keyAuth(stranger)).connect()).rejects.toThrow(
      /login failed for user "key_loader" .*JWT token is invalid\. \(code 390144\)/,
    );
  });

  it('logs the session out on close', async () => {
    const source = createSnowflakeSource(options());
    await source.connect();
    expect(fake.openSessions()).toBe(1);
    await source.close();
    expect(fake.openSessions()).toBe(0);
    expect(fake.requests.at(-1)).toBe('POST /session');
  });

  it('is built by createSource from a definition and the environment, and a sync delivers every row once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'snowflake-sync-'));
    const passwordFile = join(dir, 'password');
    writeFileSync(passwordFile, `${PASSWORD}\n`);
    const definition = parseSyncDefinition(
      [
        'name: snowflake-events',
        'mode: simplified',
        'page_size: 4',
        `source: { type: snowflake, access_url: "${fake.url}", table: events, cursor: updated_at, primary_key: event_id }`,
        'mapping: { type: events, event: { value: Row Changed }, time: updated_at, time_zone: UTC, user_id: user_id, insert_id: event_id }',
      ].join('\n'),
    );
    const env = { SNOWFLAKE_ACCOUNT: ACCOUNT, SNOWFLAKE_USER: USER, SNOWFLAKE_PASSWORD_FILE: passwordFile };
    const token = 'snowflake-sync-token';
    const sandbox = await startSandbox({
      port: 0,
      host: '127.0.0.1',
      mode: 'simplified',
      projectToken: token,
    });
    try {
      const syncOnce = async () => {
        const source = createSource(definition, dir, env);
        await source.connect();
        const sender = createSender(
          { region: 'us', apiHost: sandbox.url, auth: { kind: 'token', token }, secrets: [token] },
          { deadLetter: createDeadLetterList() },
        );
        try {
          const report = await runSync(definition, source, sender, new StateStore(join(dir, 'state')));
          await sender.flush();
          return report;
        } finally {
          await source.close();
        }
      };
      const first = await syncOnce();
      expect(first).toMatchObject({
        rowsRead: 10,
        invalid: 0,
        window: { upTo: '2025-11-22 08:06:00.000000000' },
      });
      const stats = (await (await fetch(`${sandbox.url}/_sandbox/stats`)).json()) as { accepted: number };
      expect(stats.accepted).toBe(10);
      const second = await syncOnce();
      // The inclusive lower bound re-reads the bound's own row; its $insert_id deduplicates it.
      expect(second).toMatchObject({ rowsRead: 1, window: { after: '2025-11-22 08:06:00.000000000' } });
      const again = (await (await fetch(`${sandbox.url}/_sandbox/stats`)).json()) as { accepted: number };
      expect(again.accepted).toBe(10);
    } finally {
      await sandbox.close();
    }
  });

  it('talks to a fake that checks the session token on every request', async () => {
    const response = await fetch(`${fake.url}/queries/v1/query-request`, {
      method: 'POST',
      headers: { Authorization: 'Snowflake Token="forged"', 'Content-Type': 'application/json' },
      body: JSON.stringify({ sqlText: 'select 1' }),
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: '390104', success: false });
  });

  it('sent no telemetry, left no log file and reached nothing but loopback addresses', () => {
    expect(fake.requests.filter((request) => request.includes('/telemetry'))).toEqual([]);
    expect(existsSync(logFile)).toBe(logFileExisted);
    expect(fake.unexpected).toEqual([]);
    expect(reached.length).toBeGreaterThan(0);
    expect(refused).toEqual([]);
  });
});

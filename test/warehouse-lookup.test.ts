import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresOrSkip, startPostgres, type RunningPostgres } from '@idmerge/warehouse-sync/test/postgres';
import { runCli } from './support/run-cli.js';
import { startSandboxProcess, type SandboxProcess } from './support/sandbox-process.js';

const SA = { username: 'lookup.bot', secret: 'lookup-secret-9f3', projectId: '4242' };
const SANDBOX_ARGS = [
  '--mode',
  'simplified',
  '--service-account',
  `${SA.username}:${SA.secret}`,
  '--project-id',
  SA.projectId,
];

interface StoredTable {
  header: string[];
  rows: Array<Array<string | null>>;
  replaces: number;
}
interface Stats {
  requests: number;
  requests_by_status: Record<string, number>;
}

function env(sandbox: SandboxProcess, overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    MIXPANEL_SERVICE_ACCOUNT_USERNAME: SA.username,
    MIXPANEL_SERVICE_ACCOUNT_SECRET: SA.secret,
    MIXPANEL_PROJECT_ID: SA.projectId,
    MIXPANEL_API_HOST: sandbox.url,
    ...overrides,
  };
}

const text = (value: string | null) => (value === null ? 'null' : `'${value.replace(/'/g, "''")}'`);

async function duckdb(file: string, statements: string[]): Promise<void> {
  const instance = await DuckDBInstance.create(file);
  const connection = await instance.connect();
  for (const sql of statements) await connection.run(sql);
  connection.closeSync();
  instance.closeSync();
}

function definition(dir: string, source: string, extra = ''): string {
  const file = join(dir, 'accounts.yaml');
  writeFileSync(
    file,
    [
      'name: accounts',
      'mode: simplified',
      'page_size: 3',
      source,
      'mapping:',
      '  type: lookup_table',
      '  lookup_table_id: acct-7',
      '  key: account_id',
      '  properties:',
      '    include: [name, note, seats, active]',
      '    rename: { account_id: id, name: Account Name }',
      extra,
    ].join('\n'),
  );
  return file;
}

const stateOf = (dir: string) =>
  JSON.parse(readFileSync(join(dir, '.idmerge', 'state', 'accounts', 'state.json'), 'utf8')) as {
    lookupTable?: { sha256: string; rows: number };
  };
const deadLetters = (dir: string) =>
  readFileSync(join(dir, '.idmerge', 'state', 'accounts', 'dead-letter.ndjson'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { record: Record<string, unknown>; reason: string; field: string });

/** Values that CSV must quote or tell apart; each must come back exactly. */
const EDGE_VALUES: Array<[string, string | null]> = [
  ['k01', 'comma, inside'],
  ['k02', 'a "quoted" word'],
  ['k03', 'two\nlines'],
  ['k04', 'windows\r\nline end'],
  ['k05', ''],
  ['k06', null],
  ['k07', '  padded  '],
  ['k08', 'ünïcødé ✓ 😀'],
  ['k09', '"'],
  ['k10', ','],
  ['k11', 'trailing newline\n'],
  ['k12', '=1+2'],
  ['key, with "both"', 'x'],
];

describe('idmerge sync of a lookup table from DuckDB into the sandbox', () => {
  let sandbox: SandboxProcess;
  beforeAll(async () => {
    sandbox = await startSandboxProcess(SANDBOX_ARGS);
  });
  afterAll(async () => {
    await sandbox?.stop();
  });

  it('replaces the table with every value round-tripping exactly; an unchanged run sends nothing; a changed one replaces', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lookup-duck-'));
    const database = join(dir, 'warehouse.duckdb');
    await duckdb(database, [
      'create table accounts (account_id varchar, name varchar, note varchar, seats integer, active boolean)',
      ...EDGE_VALUES.map(
        ([key, note], i) =>
          `insert into accounts values (${text(key)}, 'Account ${i}', ${text(note)}, ${i}, ${i % 2 === 0})`,
      ),
      // Kept out, each with its reason; the rest is sent.
      `insert into accounts values (null, 'no key', 'n', 1, true), ('', 'empty key', 'e', 1, true)`,
      `insert into accounts values ('twice', 'first', 'a', 1, true), ('twice', 'second', 'b', 2, false)`,
    ]);
    const config = definition(
      dir,
      'source: { type: duckdb, database: warehouse.duckdb, table: accounts, primary_key: account_id }',
    );

    const first = await runCli(['sync', '--config', config], { env: env(sandbox) });
    expect(first.stdout).toMatch(/outcome:\s+replaced/);
    expect(first.stdout).toMatch(/rows kept out:\s+4 \(1 null_key, 1 empty_key, 2 duplicate_key\)/);
    expect(first.code).toBe(2); // replaced, with rows dead-lettered
    expect(first.stdout + first.stderr).not.toContain(SA.secret);
    const stored = await sandbox.json<StoredTable>('/_sandbox/lookup-tables/acct-7');
    expect(stored.header).toEqual(['id', 'Account Name', 'note', 'seats', 'active']);
    const byKey = new Map(stored.rows.map((row) => [row[0], row]));
    expect(byKey.size).toBe(EDGE_VALUES.length);
    EDGE_VALUES.forEach(([key, note], i) => {
      expect(byKey.get(key)).toEqual([key, `Account ${i}`, note, String(i), String(i % 2 === 0)]);
    });
    const letters = deadLetters(dir);
    expect(letters.map((l) => l.record.name).sort()).toEqual(['empty key', 'first', 'no key', 'second']);
    expect(letters.find((l) => l.record.name === 'no key')?.reason).toMatch(/key account_id is NULL/);
    expect(letters.find((l) => l.record.name === 'first')?.reason).toMatch(
      /key account_id="twice" is in 2 rows/,
    );
    const hash = stateOf(dir).lookupTable?.sha256;
    expect(hash).toMatch(/^[0-9a-f]{64}$/);

    const before = await sandbox.json<Stats>('/_sandbox/stats');
    const second = await runCli(['sync', '--config', config], { env: env(sandbox) });
    expect(second.stdout).toMatch(/outcome:\s+unchanged since the last replace: nothing sent/);
    expect((await sandbox.json<Stats>('/_sandbox/stats')).requests).toBe(before.requests);

    const preview = await runCli(['preview', '--config', config, '--json'], { env: env(sandbox) });
    expect(JSON.parse(preview.stdout)).toMatchObject({
      change: 'unchanged',
      wouldSend: false,
      rows: EDGE_VALUES.length,
      problems: { null_key: 1, empty_key: 1, duplicate_key: 2, invalid_value: 0 },
    });

    await duckdb(database, [
      `update accounts set seats = 99 where account_id = 'k01'`,
      `delete from accounts where account_id = 'k02'`,
    ]);
    const changedPreview = await runCli(['preview', '--config', config], { env: env(sandbox) });
    expect(changedPreview.stdout).toMatch(/since last replace: changed/);
    expect(changedPreview.stdout).toMatch(/a run would:\s+replace the table/);
    const third = await runCli(['sync', '--config', config], { env: env(sandbox) });
    expect(third.stdout).toMatch(/outcome:\s+replaced/);
    const replaced = await sandbox.json<StoredTable>('/_sandbox/lookup-tables/acct-7');
    expect(replaced.replaces).toBe(2);
    expect(replaced.rows.find((row) => row[0] === 'k01')?.[3]).toBe('99');
    expect(replaced.rows.some((row) => row[0] === 'k02')).toBe(false);
    expect(stateOf(dir).lookupTable?.sha256).not.toBe(hash);
  }, 120_000);

  it('refuses a table over 100 MB before sending, naming its size, the limit and what to do', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lookup-big-'));
    const config = definition(
      dir,
      // About 101 MB of CSV: 100,500 rows of a little over 1,000 bytes.
      `source: { type: duckdb, query: "select 'a' || lpad(cast(i as varchar), 7, '0') as account_id, repeat('x', 1000) as name, '' as note, i as seats, true as active from range(100500) t(i)", primary_key: account_id }`,
    );
    writeFileSync(config, readFileSync(config, 'utf8').replace('page_size: 3', 'page_size: 5000'));
    const before = await sandbox.json<Stats>('/_sandbox/stats');
    const run = await runCli(['sync', '--config', config], { env: env(sandbox) });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/NOT replaced: too large/);
    expect(run.stdout).toMatch(
      /CSV is 10\d\.\d MB \(\d+ bytes\), over Mixpanel's limit of 100\.0 MB \(100000000 bytes\)/,
    );
    expect(run.stdout).toMatch(/list fewer columns in mapping\.properties\.include/);
    expect((await sandbox.json<Stats>('/_sandbox/stats')).requests).toBe(before.requests);
  }, 120_000);
});

describe('idmerge sync of a lookup table: what Mixpanel answers', () => {
  it('a 429 with Retry-After is waited out, then the replace goes through', async () => {
    // Seed 28 with 429=0.5: the first request gets the 429, the next ones pass.
    const sandbox = await startSandboxProcess([
      ...SANDBOX_ARGS,
      '--faults',
      '429=0.5',
      '--seed',
      '28',
      '--retry-after',
      '1',
    ]);
    try {
      const dir = mkdtempSync(join(tmpdir(), 'lookup-429-'));
      const config = definition(
        dir,
        `source: { type: duckdb, query: "select 'a' as account_id, 'A' as name, 'n' as note, 1 as seats, true as active", primary_key: account_id }`,
      );
      const run = await runCli(['sync', '--config', config], { env: env(sandbox) });
      expect(run.stderr).toMatch(/lookup table acct-7: HTTP 429, sending again in 1 s/);
      expect(run.stdout).toMatch(/outcome:\s+replaced/);
      expect(run.stdout).toMatch(/requests:\s+2/);
      expect(run.code).toBe(0);
      expect((await sandbox.json<Stats>('/_sandbox/stats')).requests_by_status).toEqual({
        '200': 1,
        '429': 1,
      });
      expect((await sandbox.json<StoredTable>('/_sandbox/lookup-tables/acct-7')).rows).toEqual([
        ['a', 'A', 'n', '1', 'true'],
      ]);
    } finally {
      await sandbox.stop();
    }
  }, 60_000);

  it('a 401 leaves the table and the stored hash as they were; the next run with the right secret replaces', async () => {
    const sandbox = await startSandboxProcess(SANDBOX_ARGS);
    try {
      const dir = mkdtempSync(join(tmpdir(), 'lookup-401-'));
      const database = join(dir, 'warehouse.duckdb');
      await duckdb(database, [
        'create table accounts (account_id varchar, name varchar, note varchar, seats integer, active boolean)',
        `insert into accounts values ('a', 'A', 'n', 1, true)`,
      ]);
      const config = definition(
        dir,
        'source: { type: duckdb, database: warehouse.duckdb, table: accounts, primary_key: account_id }',
      );
      expect((await runCli(['sync', '--config', config], { env: env(sandbox) })).code).toBe(0);
      const hash = stateOf(dir).lookupTable?.sha256;

      await duckdb(database, [`insert into accounts values ('b', 'B', 'm', 2, false)`]);
      const wrong = 'not-the-secret-71';
      const refused = await runCli(['sync', '--config', config], {
        env: env(sandbox, { MIXPANEL_SERVICE_ACCOUNT_SECRET: wrong }),
      });
      expect(refused.code).toBe(1);
      expect(refused.stdout).toMatch(/NOT replaced: the replace did not go through/);
      expect(refused.stdout).toMatch(/Mixpanel refused the credentials \(HTTP 401\)/);
      expect(refused.stdout + refused.stderr).not.toContain(wrong);
      expect(stateOf(dir).lookupTable?.sha256).toBe(hash);
      expect((await sandbox.json<StoredTable>('/_sandbox/lookup-tables/acct-7')).rows).toHaveLength(1);

      const retried = await runCli(['sync', '--config', config], { env: env(sandbox) });
      expect(retried.stdout).toMatch(/outcome:\s+replaced/);
      expect((await sandbox.json<StoredTable>('/_sandbox/lookup-tables/acct-7')).rows).toHaveLength(2);
    } finally {
      await sandbox.stop();
    }
  }, 60_000);
});

describe('idmerge schedule with a lookup table', () => {
  it('replaces on the first run and sends nothing on the next while the result is the same', async () => {
    const sandbox = await startSandboxProcess(SANDBOX_ARGS);
    try {
      const dir = mkdtempSync(join(tmpdir(), 'lookup-schedule-'));
      const config = definition(
        dir,
        `source: { type: duckdb, query: "select 'a' as account_id, 'A' as name, '' as note, 1 as seats, true as active", primary_key: account_id }`,
        'schedule: "* * * * * *"',
      );
      const result = await runCli(['schedule', '--config', config, '--run-now', '--max-runs', '2'], {
        env: env(sandbox),
      });
      expect(result.code).toBe(0);
      const runs = result.stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { outcome?: string; lookupTable?: string; msg: string })
        .filter((line) => line.outcome !== undefined);
      expect(runs.map((run) => [run.lookupTable, run.outcome, run.msg])).toEqual([
        ['acct-7', 'replaced', 'run finished'],
        ['acct-7', 'unchanged', 'run finished'],
      ]);
      expect((await sandbox.json<StoredTable>('/_sandbox/lookup-tables/acct-7')).replaces).toBe(1);
    } finally {
      await sandbox.stop();
    }
  }, 60_000);
});

const available = postgresOrSkip();
const describePostgres = 'skip' in available ? describe.skip : describe;

describePostgres(
  `idmerge sync of a lookup table from PostgreSQL ${'skip' in available ? `(${available.skip})` : ''}`,
  () => {
    let server: RunningPostgres;
    let sandbox: SandboxProcess;
    beforeAll(async () => {
      server = await startPostgres();
      sandbox = await startSandboxProcess(SANDBOX_ARGS);
      await server.sql(`
      create table accounts (account_id text, name text, note text, seats bigint, active boolean, tags jsonb);
      insert into accounts select 'acct-' || lpad(i::text, 4, '0'), 'Name ' || i, case when i % 3 = 0 then null when i % 3 = 1 then '' else 'x,"y"' || chr(10) || 'z' end, i, i % 2 = 0, null
        from generate_series(1, 2500) i;
    `);
    }, 60_000);
    afterAll(async () => {
      await sandbox?.stop();
      await server?.stop();
    });

    it('replaces the table from a real server, byte for byte what the warehouse holds; unchanged next time; changed after an update', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'lookup-pg-'));
      const config = definition(dir, 'source: { type: postgres, table: accounts, primary_key: account_id }');
      writeFileSync(config, readFileSync(config, 'utf8').replace('page_size: 3', 'page_size: 1000'));
      const first = await runCli(['sync', '--config', config], { env: { ...server.env, ...env(sandbox) } });
      expect(first.stderr).toBe('');
      expect(first.stdout).toMatch(/outcome:\s+replaced/);
      expect(first.code).toBe(0);
      const stored = await sandbox.json<StoredTable>('/_sandbox/lookup-tables/acct-7');
      expect(stored.rows).toHaveLength(2500);
      // Every cell as PostgreSQL holds it (NULL stays no value, '' stays an empty string).
      const expected = await server.sql(
        `select account_id, name, note, seats::text as seats, active::text as active from accounts order by account_id`,
      );
      expect(stored.rows).toEqual(expected.map((r) => [r.account_id, r.name, r.note, r.seats, r.active]));
      expect(stored.rows[0]).toEqual(['acct-0001', 'Name 1', '', '1', 'false']);
      expect(stored.rows[1]).toEqual(['acct-0002', 'Name 2', 'x,"y"\nz', '2', 'true']);
      expect(stored.rows[2]).toEqual(['acct-0003', 'Name 3', null, '3', 'false']);

      const second = await runCli(['sync', '--config', config], { env: { ...server.env, ...env(sandbox) } });
      expect(second.stdout).toMatch(/outcome:\s+unchanged/);
      await server.sql(`update accounts set name = 'Renamed' where account_id = 'acct-2500'`);
      const third = await runCli(['sync', '--config', config], { env: { ...server.env, ...env(sandbox) } });
      expect(third.stdout).toMatch(/outcome:\s+replaced/);
      const after = await sandbox.json<StoredTable>('/_sandbox/lookup-tables/acct-7');
      expect(after.replaces).toBe(2);
      expect(after.rows.at(-1)?.[1]).toBe('Renamed');
    }, 120_000);
  },
);

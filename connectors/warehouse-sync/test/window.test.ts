import { describe, expect, it } from 'vitest';
import { bigQueryDialect, windowColumn as bigQueryColumn } from '../src/sources/bigquery-sql.js';
import { duckDbColumn, duckDbDialect } from '../src/sources/duckdb-dialect.js';
import { FLAVOURS } from '../src/sources/postgres-sql.js';
import { snowflakeDialect, windowColumn as snowflakeColumn } from '../src/sources/snowflake-sql.js';
import type { Page, PagePosition, ReadWindow } from '../src/sources/source.js';
import { checkWindow, segmentStatement, type SqlDialect, type WindowSpec } from '../src/sources/window.js';
import { keysetPages, streamedPages, type PositionedRows } from '../src/sources/window-pages.js';

const dialects: Array<[string, SqlDialect, WindowSpec]> = [
  [
    'DuckDB',
    duckDbDialect,
    {
      relation: '(select * from events) as source_rows',
      cursor: duckDbColumn('updated_at', 'TIMESTAMP'),
      key: duckDbColumn('id', 'BIGINT'),
      shardColumn: duckDbColumn('user_id', 'VARCHAR'),
    },
  ],
  [
    'Snowflake',
    snowflakeDialect,
    {
      relation: '(select * from EVENTS) as source_rows',
      cursor: snowflakeColumn({ name: 'updated_at', type: 'timestamp_ntz', precision: null, scale: 9 }),
      key: snowflakeColumn({ name: 'id', type: 'fixed', precision: 38, scale: 0 }),
      shardColumn: snowflakeColumn({ name: 'user_id', type: 'text', precision: null, scale: null }),
    },
  ],
  [
    'BigQuery',
    bigQueryDialect,
    {
      relation: '(select * from `p.d.events`) as source_rows',
      cursor: bigQueryColumn({ name: 'updated_at', type: 'TIMESTAMP' }),
      key: bigQueryColumn({ name: 'id', type: 'INTEGER' }),
      shardColumn: bigQueryColumn({ name: 'user_id', type: 'STRING' }),
    },
  ],
];

const window: ReadWindow = {
  after: '2025-11-22 08:00:00',
  lookbackSeconds: 60,
  upTo: '2025-11-22 09:00:00',
  from: { cursor: '2025-11-22 08:30:00', key: '17' },
  pageSize: 100,
  shard: { index: 1, count: 4, column: 'user_id' },
};

describe.each(dialects)('the read window in %s', (_name, dialect, spec) => {
  it('is one statement: inclusive lower bound minus the lookback, upper bound, resume position, shard', () => {
    const statement = segmentStatement(dialect, spec, window, 'window', { limit: 101 });
    const c = dialect.quote('updated_at');
    const k = dialect.quote('id');
    expect(statement.text).toContain(
      `${c} >= ${dialect.minusSeconds(dialect.cast(dialect.placeholder(1), spec.cursor!), 60, spec.cursor!)}`,
    );
    expect(statement.text).toContain(`${c} <= ${dialect.cast(dialect.placeholder(2), spec.cursor!)}`);
    expect(statement.text).toContain(`or ${k} > ${dialect.cast(dialect.placeholder(5), spec.key)}`);
    expect(statement.text).toContain(`${dialect.shard(dialect.quote('user_id'), spec.shardColumn!, 4)} = 1`);
    expect(statement.text).toMatch(new RegExp(`order by ${escape(c)}, ${escape(k)} limit 101$`));
    expect(statement.params).toEqual([
      '2025-11-22 08:00:00',
      '2025-11-22 09:00:00',
      '2025-11-22 08:30:00',
      '2025-11-22 08:30:00',
      '17',
    ]);
  });

  it('reads the NULL-cursor rows by key after the window, resuming inside them', () => {
    const statement = segmentStatement(
      dialect,
      spec,
      { ...window, from: { cursor: '', key: '5', nullCursor: true } },
      'null',
    );
    expect(statement.text).toContain(`${dialect.quote('updated_at')} is null`);
    expect(statement.text).toContain(
      `${dialect.quote('id')} > ${dialect.cast(dialect.placeholder(1), spec.key)}`,
    );
    expect(statement.text).toMatch(new RegExp(`order by ${escape(dialect.quote('id'))}$`));
    expect(statement.params).toEqual(['5']);
  });

  it('makes the same checks as every other warehouse', () => {
    expect(() => checkWindow(spec, { ...window, pageSize: 0 })).toThrow(
      'page_size must be a positive whole number, not 0',
    );
    expect(() => checkWindow(spec, { ...window, shard: { index: 4, count: 4, column: 'user_id' } })).toThrow(
      'shard 4/4 does not exist: give i/N with 0 ≤ i < N',
    );
    const { shardColumn: _shard, ...withoutShardColumn } = spec;
    expect(() => checkWindow(withoutShardColumn, window)).toThrow('shard column "user_id"');
    expect(() => checkWindow(spec, { ...window, lookbackSeconds: 1.5 })).toThrow(
      'lookback must be a whole number',
    );
  });
});

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\`]/g, '\\$&');

/** Rows ordered by (cursor, key) with runs of duplicates: keys 3 (×2), 6 (×3) and 9 (×7). */
const ROWS = [1, 2, 3, 3, 4, 5, 6, 6, 6, 7, 8, 9, 9, 9, 9, 9, 9, 9, 10].map((key, i) => ({
  key,
  n: i,
  position: { cursor: String(Math.floor(key / 2)), key: String(key) },
}));

const after = (p: PagePosition, row: (typeof ROWS)[number]) =>
  Number(row.position.cursor) > Number(p.cursor) ||
  (row.position.cursor === p.cursor && Number(row.position.key) > Number(p.key));

/** Every row, from every position a page gave, is read: prefix + resumed = all, each once per read. */
async function expectComplete(read: (from?: PagePosition) => AsyncGenerator<Page>, pageSize: number) {
  const pages: Page[] = [];
  for await (const page of read()) pages.push(page);
  const all = pages.flatMap((page) => page.rows.map((row) => row.n));
  expect(all).toEqual(ROWS.map((row) => row.n));
  for (const page of pages) expect(page.rows.length).toBeLessThanOrEqual(Math.max(pageSize, 7));
  expect(pages.reduce((sum, page) => sum + (page.duplicateKeys ?? 0), 0)).toBe(1 + 2 + 6);
  for (let i = 0; i < pages.length; i++) {
    const last = pages[i]?.last;
    if (last === undefined) continue;
    const seen = new Set(pages.slice(0, i + 1).flatMap((page) => page.rows.map((row) => row.n)));
    for await (const page of read(last)) for (const row of page.rows) seen.add(row.n as number);
    expect(seen.size).toBe(ROWS.length);
  }
}

describe('pages never split rows sharing (cursor, key)', () => {
  it.each([1, 2, 3, 4, 5, 8])('keyset paging with LIMIT (Snowflake), page size %i', async (pageSize) => {
    const fetch = async (from: PagePosition | undefined, limit: number): Promise<PositionedRows> => {
      const rows = ROWS.filter((row) => from === undefined || after(from, row)).slice(0, limit);
      return { rows: rows.map((row) => ({ n: row.n })), positions: rows.map((row) => row.position) };
    };
    await expectComplete((from) => keysetPages(fetch, pageSize, from), pageSize);
  });

  it.each([1, 2, 3, 4, 5, 8])('one streamed result in batches (BigQuery), batch size %i', async (size) => {
    async function* batches(from?: PagePosition): AsyncGenerator<PositionedRows> {
      const rows = ROWS.filter((row) => from === undefined || after(from, row));
      for (let i = 0; i < rows.length; i += size) {
        const part = rows.slice(i, i + size);
        yield { rows: part.map((row) => ({ n: row.n })), positions: part.map((row) => row.position) };
      }
    }
    await expectComplete((from) => streamedPages(batches(from)), size);
  });
});

describe('a window read as one row text', () => {
  const postgres = FLAVOURS.postgres.dialect;
  const spec: WindowSpec = {
    relation: '(select * from events) as source_rows',
    cursor: { name: 'updated_at', type: 'timestamptz', kind: 'timestamp' },
    key: { name: 'id', type: 'bigint', kind: 'number' },
  };

  it('selects the named columns, then the position texts, as one record text (PostgreSQL)', () => {
    const statement = segmentStatement(postgres, spec, window, 'window', {
      columns: ['id', 'event name'],
      asRow: true,
    });
    expect(statement.text).toMatch(
      /^select cast\(row\("id", "event name", cast\("updated_at" as text\), cast\("id" as text\)\) as text\) as "__idmerge_row" from /,
    );
    // The rest of the statement is the one read column by column.
    const byColumn = segmentStatement(postgres, spec, window, 'window', { columns: ['id', 'event name'] });
    expect(statement.text.slice(statement.text.indexOf(' from '))).toBe(
      byColumn.text.slice(byColumn.text.indexOf(' from ')),
    );
    expect(statement.params).toEqual(byColumn.params);
  });

  it('is refused where the dialect has no row text, or the columns are not named', () => {
    expect(() =>
      segmentStatement(FLAVOURS.redshift.dialect, spec, window, 'window', { columns: ['id'], asRow: true }),
    ).toThrow('Redshift has no row text: read its rows column by column');
    expect(() => segmentStatement(postgres, spec, window, 'window', { asRow: true })).toThrow(
      /only with its columns named/,
    );
  });
});

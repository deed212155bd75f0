import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDuckDbSource } from '../src/sources/duckdb.js';
import { SUITE_ROWS, sourceSuite } from './source-suite.js';

const database = join(mkdtempSync(join(tmpdir(), 'duckdb-source-')), 'warehouse.duckdb');

beforeAll(async () => {
  const instance = await DuckDBInstance.create(database);
  const connection = await instance.connect();
  await connection.run('create table events (event_id integer, updated_at timestamp, user_id varchar)');
  for (const row of SUITE_ROWS) {
    await connection.run('insert into events values ($id, cast($at as timestamp), $user)', {
      id: row.event_id,
      at: row.updated_at,
      user: row.user_id,
    });
  }
  connection.closeSync();
  instance.closeSync();
});

sourceSuite('DuckDB (database file, table)', async () =>
  createDuckDbSource({ database, table: 'events', cursor: 'updated_at', primaryKey: 'event_id' }),
);

sourceSuite('DuckDB (database file, read in slices of 3 rows)', async () =>
  createDuckDbSource({
    database,
    table: 'events',
    cursor: 'updated_at',
    primaryKey: 'event_id',
    rowsPerSlice: 3,
  }),
);

describe('DuckDB source without a cursor', () => {
  it('slices and pages on the key alone, and resumes after a key', async () => {
    const source = createDuckDbSource({ database, table: 'events', primaryKey: 'event_id', rowsPerSlice: 3 });
    await source.connect();
    try {
      const pages: number[][] = [];
      for await (const page of source.pages({ pageSize: 4 }))
        pages.push(page.rows.map((r) => Number(r.event_id)));
      expect(pages.flat()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      for (const page of pages) expect(page.length).toBeLessThanOrEqual(4);
      const rest: number[] = [];
      for await (const page of source.pages({ pageSize: 4, from: { cursor: '', key: '6' } }))
        rest.push(...page.rows.map((r) => Number(r.event_id)));
      expect(rest).toEqual([7, 8, 9, 10]);
    } finally {
      await source.close();
    }
  });
});

describe('DuckDB source, columns the caller uses', () => {
  it('fetches only those, and still pages and resumes on the cursor and key it did not ask for', async () => {
    const source = createDuckDbSource({
      database,
      table: 'events',
      cursor: 'updated_at',
      primaryKey: 'event_id',
      rowsPerSlice: 3,
    });
    await source.connect();
    try {
      const offered: string[][] = [];
      const window = {
        pageSize: 4,
        columns: (available: readonly string[]) => {
          offered.push([...available]);
          return ['user_id'];
        },
      };
      const pages = [];
      for await (const page of source.pages(window)) pages.push(page);
      expect(offered).toEqual([['event_id', 'updated_at', 'user_id']]);
      const rows = pages.flatMap((page) => page.rows);
      expect(rows).toEqual(SUITE_ROWS.map((row) => ({ user_id: row.user_id })));
      const last = pages.at(-1)?.last;
      expect(last?.key).toBe('10');
      const middle = pages[0]?.last;
      const rest = [];
      for await (const page of source.pages({ ...window, from: middle })) rest.push(...page.rows);
      expect(rest).toEqual(rows.slice(pages[0]?.rows.length));
    } finally {
      await source.close();
    }
  });
});

const csv = join(mkdtempSync(join(tmpdir(), 'duckdb-csv-')), 'events.csv');
beforeAll(async () => {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(
    csv,
    [
      'event_id,updated_at,user_id',
      ...SUITE_ROWS.map((r) => `${r.event_id},${r.updated_at},${r.user_id}`),
    ].join('\n'),
  );
});

sourceSuite('DuckDB (:memory:, a CSV file read by the query)', async () =>
  createDuckDbSource({
    database: ':memory:',
    query: `select * from read_csv('${csv}', types = {'updated_at': 'TIMESTAMP'})`,
    cursor: 'updated_at',
    primaryKey: 'event_id',
  }),
);

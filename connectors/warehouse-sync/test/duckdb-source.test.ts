import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
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

describe('DuckDB source, rows whose key is NULL', () => {
  it('reads them in slices as in one query (last), so none is dropped unseen', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'duckdb-null-key-')), 'w.duckdb');
    const instance = await DuckDBInstance.create(file);
    const connection = await instance.connect();
    await connection.run(
      "create table t as select case when i % 4 = 0 then null else 'k' || lpad(cast(i as varchar), 2, '0') end as id from range(12) r(i)",
    );
    connection.closeSync();
    instance.closeSync();
    for (const rowsPerSlice of [3, 1000]) {
      const source = createDuckDbSource({ database: file, table: 't', primaryKey: 'id', rowsPerSlice });
      await source.connect();
      try {
        const keys: unknown[] = [];
        for await (const page of source.pages({ pageSize: 5 })) keys.push(...page.rows.map((r) => r.id));
        expect(keys).toHaveLength(12);
        expect(keys.slice(-3)).toEqual([null, null, null]);
      } finally {
        await source.close();
      }
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

describe('DuckDB source, how long the database stays open', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** Counts the databases DuckDB opens and how many of them are open now. */
  function watchOpenings() {
    const watched = { opened: 0, open: 0, mostOpen: 0, readOnly: 0, memoryLimits: new Set<string>() };
    const create = DuckDBInstance.create.bind(DuckDBInstance);
    vi.spyOn(DuckDBInstance, 'create').mockImplementation(async (path, settings) => {
      const instance = await create(path, settings);
      watched.opened++;
      watched.open++;
      watched.mostOpen = Math.max(watched.mostOpen, watched.open);
      if (settings?.access_mode === 'READ_ONLY') watched.readOnly++;
      watched.memoryLimits.add(settings?.memory_limit ?? 'none');
      const closeSync = instance.closeSync.bind(instance);
      vi.spyOn(instance, 'closeSync').mockImplementation(() => {
        watched.open--;
        closeSync();
      });
      return instance;
    });
    return watched;
  }

  const eventsSource = (settings: { rowsPerSlice?: number; memoryLimit?: string } = {}) =>
    createDuckDbSource({
      database,
      table: 'events',
      cursor: 'updated_at',
      primaryKey: 'event_id',
      ...settings,
    });

  it('opens it read-only for each slice and closes it after, so nothing DuckDB caches outlives a slice', async () => {
    const watched = watchOpenings();
    const source = eventsSource({ rowsPerSlice: 3, memoryLimit: '64MB' });
    await source.connect();
    try {
      expect(watched.open).toBe(0); // connect() checks the table, then lets go of the file
      const openedBefore = watched.opened;
      const openWhileReading: number[] = [];
      const ids: number[] = [];
      for await (const page of source.pages({ pageSize: 2 })) {
        openWhileReading.push(watched.open);
        ids.push(...page.rows.map((row) => Number(row.event_id)));
      }
      expect(ids).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      // Ten rows in slices of about three: the slice bounds on one opening, then one per slice.
      const slices = watched.opened - openedBefore - 1;
      expect(slices).toBeGreaterThanOrEqual(3);
      expect(openWhileReading.every((open) => open === 1)).toBe(true);
      expect(watched.mostOpen).toBe(1);
      expect(watched.open).toBe(0);
      expect(watched.readOnly).toBe(watched.opened);
      expect([...watched.memoryLimits]).toEqual(['64MB']); // every opening has the source's settings
    } finally {
      await source.close();
    }
  });

  it('closes the slice it was reading when the caller stops early', async () => {
    const watched = watchOpenings();
    const source = eventsSource();
    await source.connect();
    try {
      for await (const page of source.pages({ pageSize: 2 })) {
        expect(page.rows).toHaveLength(2);
        break;
      }
      expect(watched.open).toBe(0);
    } finally {
      await source.close();
    }
  });

  it('reports a missing database file instead of creating an empty one', async () => {
    const missing = join(mkdtempSync(join(tmpdir(), 'duckdb-missing-')), 'nowhere.duckdb');
    const source = createDuckDbSource({ database: missing, table: 'events', primaryKey: 'event_id' });
    await expect(source.connect()).rejects.toThrow(/nowhere\.duckdb/);
    expect(existsSync(missing)).toBe(false);
    await expect(source.describe()).rejects.toThrow(/not connected/);
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

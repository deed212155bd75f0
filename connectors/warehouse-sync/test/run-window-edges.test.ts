import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { parseSyncDefinition, type SyncDefinition } from '../src/definition.js';
import { previewSync } from '../src/preview.js';
import { createSource } from '../src/sources/create.js';
import { sandboxRuns } from './support/sandbox-runs.js';

/**
 * The edges of the read window, on DuckDB as a database file and as CSV files read by a query:
 * NULL cursors, text cursors, rows committed late at the bound, duplicate primary keys.
 */

const TOKEN = 'window-edges-token';
const { url, accepted, run } = sandboxRuns(TOKEN);
async function insertIds(): Promise<string[]> {
  const text = await (await fetch(`${url()}/_sandbox/events`)).text();
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) =>
      String((JSON.parse(line) as { properties: { $insert_id: unknown } }).properties.$insert_id),
    );
}

interface Row {
  id: string;
  updated_at: string | null;
  /** Default: `D-` and the id. */
  device?: string;
}

const literal = (value: string | null) => (value === null ? 'null' : `'${value.replaceAll("'", "''")}'`);

/** A warehouse holding `events(id, event_name, event_time, device_id, updated_at)`, as a file or as CSV. */
interface Warehouse {
  name: string;
  /** Replaces the table's rows. */
  write(rows: Row[]): Promise<void>;
  /** The definition's `source` (YAML flow mapping, without the cursor settings). */
  source: string;
}

const COLUMNS = 'id varchar, event_name varchar, event_time varchar, device_id varchar, updated_at';

function duckDbFile(cursorType: string): Warehouse {
  const dir = mkdtempSync(join(tmpdir(), 'wh-edges-'));
  const file = join(dir, 'warehouse.duckdb');
  return {
    name: `DuckDB file (${cursorType} cursor)`,
    async write(rows) {
      const instance = await DuckDBInstance.create(file);
      const connection = await instance.connect();
      await connection.run(`create or replace table events (${COLUMNS} ${cursorType})`);
      const values = rows.map(
        (row) =>
          `(${literal(row.id)}, 'Opened', '2025-11-22T10:00:00Z', ${literal(row.device ?? `D-${row.id}`)}, cast(${literal(row.updated_at)} as ${cursorType}))`,
      );
      if (values.length > 0) await connection.run(`insert into events values ${values.join(', ')}`);
      connection.closeSync();
      instance.closeSync();
    },
    source: `{ type: duckdb, database: ${JSON.stringify(file)}, table: events`,
  };
}

function csvFile(cursorType: 'TIMESTAMP' | 'VARCHAR'): Warehouse {
  const dir = mkdtempSync(join(tmpdir(), 'wh-edges-csv-'));
  const file = join(dir, 'events.csv');
  const query = `select * from read_csv('${file}', header = true, types = {'updated_at': '${cursorType}', 'id': 'VARCHAR'})`;
  return {
    name: `CSV read by a query (${cursorType} cursor)`,
    async write(rows) {
      const lines = rows.map(
        (row) =>
          `${row.id},Opened,2025-11-22T10:00:00Z,${row.device ?? `D-${row.id}`},${row.updated_at ?? ''}`,
      );
      writeFileSync(file, ['id,event_name,event_time,device_id,updated_at', ...lines, ''].join('\n'));
    },
    source: `{ type: duckdb, database: ":memory:", query: ${JSON.stringify(query)}`,
  };
}

function definition(
  warehouse: Warehouse,
  options: { lookback?: string; pageSize?: number; nullCursor?: string; name?: string } = {},
): SyncDefinition {
  return parseSyncDefinition(
    [
      `name: ${options.name ?? 'edges'}`,
      'mode: simplified',
      `page_size: ${options.pageSize ?? 100}`,
      `lookback: ${options.lookback ?? '0s'}`,
      `source: ${warehouse.source}, cursor: updated_at, primary_key: id${options.nullCursor ? `, null_cursor: ${options.nullCursor}` : ''} }`,
      'mapping:',
      '  type: events',
      '  event: event_name',
      '  time: event_time',
      '  device_id: device_id',
      // The insert ID hashes the row's own values, so two rows sharing a key are two events.
      '  insert_id: [id, updated_at, device_id]',
      '  properties: { include: [id] }',
    ].join('\n'),
  );
}

async function preview(definitionOf: SyncDefinition) {
  const source = createSource(definitionOf, tmpdir());
  await source.connect();
  try {
    return await previewSync(definitionOf, source);
  } finally {
    await source.close();
  }
}

const stamp = (minute: number) =>
  `2025-11-22 10:${String(Math.floor(minute / 60) % 60).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
const rows = (count: number, nullEvery = 0): Row[] =>
  Array.from({ length: count }, (_, i) => ({
    id: `r${String(i).padStart(4, '0')}`,
    updated_at: nullEvery > 0 && i % nullEvery === 0 ? null : stamp(i),
  }));

const stateDir = () => mkdtempSync(join(tmpdir(), 'wh-edges-state-'));

const warehouses = () => [duckDbFile('TIMESTAMP'), csvFile('TIMESTAMP')];

describe.each(warehouses().map((w) => [w.name, w] as const))('read window edges: %s', (_name, warehouse) => {
  it('counts, reports and dead-letters rows with a NULL cursor, with the reason, on every run', async () => {
    await warehouse.write(rows(1000, 10)); // 100 of 1,000 without a cursor value
    const state = stateDir();
    const first = await run(definition(warehouse), state);
    expect(first.report).toMatchObject({ rowsRead: 1000, nullCursor: 100, invalid: 100 });
    expect(first.report.invalidByReason).toEqual({ 'updated_at: null_cursor': 100 });
    expect(first.delivery).toMatchObject({ delivered: 900, deadLettered: 100 });
    expect(first.deadLetter).toHaveLength(100);
    expect(first.deadLetter[0]?.reason).toMatch(
      /row id=r0000: updated_at: the cursor is NULL.*null_cursor: deliver/,
    );
    expect(await accepted()).toBe(900);
    // They belong to no window: the next run finds them again (and new NULL rows with them).
    const second = await run(definition(warehouse), state);
    expect(second.report).toMatchObject({ nullCursor: 100, invalid: 100 });
  });

  it('delivers rows with a NULL cursor when the definition says null_cursor: deliver', async () => {
    await warehouse.write(rows(1000, 10));
    const report = await run(definition(warehouse, { nullCursor: 'deliver', pageSize: 30 }), stateDir());
    expect(report.report).toMatchObject({ rowsRead: 1000, nullCursor: 100, invalid: 0 });
    expect(report.delivery).toMatchObject({ delivered: 1000, deadLettered: 0 });
    expect(await accepted()).toBe(1000);
  });

  it('preview warns about NULL cursors and counts them as the run would', async () => {
    await warehouse.write(rows(50, 5));
    const report = await preview(definition(warehouse));
    expect(report.rowsRead).toBe(50);
    expect(report.invalidByReason).toMatchObject({ 'updated_at: null_cursor': 10 });
    expect(report.warnings.find((w) => w.code === 'null_cursor')).toMatchObject({
      count: 10,
      examples: ['id=r0000', 'id=r0005', 'id=r0010'],
    });
  });

  it('reads a row committed late with the bound’s own cursor value, with no lookback', async () => {
    await warehouse.write(rows(10));
    const state = stateDir();
    expect((await run(definition(warehouse), state)).report.rowsRead).toBe(10);
    // Committed after the run, with the cursor value of the run's upper bound (row r0009's).
    await warehouse.write([...rows(10), { id: 'late', updated_at: stamp(9) }]);
    const second = await run(definition(warehouse), state);
    expect(second.report.rowsRead).toBe(2); // the bound's ties: r0009 again, and the late row
    expect(await accepted()).toBe(11); // r0009 deduplicated by its $insert_id
    expect(await insertIds()).toContain(
      (await insertIds()).find((id) => !/^r/.test(id)) ?? 'a late row was delivered',
    );
  });

  it('never loses a row sharing its primary key at a page or checkpoint boundary, and counts them', async () => {
    // Rows 3 and 4 share key and cursor (a duplicate); so do rows 6, 7 and 8. Their device IDs
    // differ, so they are different events.
    const table = rows(12).map((row, i) => {
      if (i === 4) return { id: 'r0003', updated_at: stamp(3), device: 'D-second' };
      if (i === 7 || i === 8) return { id: 'r0006', updated_at: stamp(6), device: `D-${i}` };
      return row;
    });
    await warehouse.write(table);
    const sync = definition(warehouse, { pageSize: 4 });
    await expectEveryResumeComplete(sync, table.length, 4);
    const full = await run(sync, stateDir());
    expect(full.report).toMatchObject({ rowsRead: 12, duplicateKeys: 3 });
    expect(full.delivery.delivered).toBe(12);
    expect(await accepted()).toBe(12);
    const previewed = await preview(sync);
    expect(previewed.warnings.find((w) => w.code === 'duplicate_key')).toMatchObject({
      count: 3,
      examples: ['id=r0003', 'id=r0006', 'id=r0006'],
    });
  });
});

/**
 * Reads the whole window, then resumes from every page's checkpoint position: the rows of the pages
 * up to it, with the rows read after it, always hold every row of the table.
 */
async function expectEveryResumeComplete(sync: SyncDefinition, total: number, pageSize: number) {
  const source = createSource(sync, tmpdir());
  await source.connect();
  const label = (row: Record<string, unknown>) => `${String(row.id)}/${String(row.device_id)}`;
  try {
    const pages = [];
    for await (const page of source.pages({ pageSize })) pages.push(page);
    expect(pages.flatMap((page) => page.rows)).toHaveLength(total);
    let positions = 0;
    for (let i = 0; i < pages.length; i++) {
      const last = pages[i]?.last;
      if (last === undefined) continue;
      positions++;
      const seen = new Set(pages.slice(0, i + 1).flatMap((page) => page.rows.map(label)));
      for await (const page of source.pages({ pageSize, from: last }))
        for (const row of page.rows) seen.add(label(row));
      expect(seen.size, `resuming after page ${i} (${JSON.stringify(last)})`).toBe(total);
    }
    expect(positions).toBeGreaterThan(0);
  } finally {
    await source.close();
  }
}

describe('duplicate keys across DuckDB result chunks (2,048 rows each)', () => {
  it('a checkpoint never stands on the first of two rows sharing a key, wherever the chunk ends', async () => {
    const warehouse = duckDbFile('TIMESTAMP');
    // Every key twice: whatever the order DuckDB returns ties in, some chunk ends inside a pair.
    // One single row first, so that the first chunk's last row (the 2,048th) starts a pair.
    const table = [
      { id: 'a-single', updated_at: stamp(0) },
      ...rows(1500).flatMap((row) => [row, { ...row, device: `${row.id}-again` }]),
    ];
    await warehouse.write(table);
    const sync = definition(warehouse, { pageSize: 5000 });
    await expectEveryResumeComplete(sync, table.length, 5000);
    const full = await run(sync, stateDir());
    expect(full.report).toMatchObject({ rowsRead: 3001, duplicateKeys: 1500 });
  });
});

describe('text cursors', () => {
  it.each([
    ['DuckDB file', () => duckDbFile('VARCHAR')],
    ['CSV read as text', () => csvFile('VARCHAR')],
  ])('%s: ISO-8601 text is compared as a timestamp, with the lookback, on every run', async (_name, make) => {
    const warehouse = make();
    await warehouse.write(
      rows(10).map((row) => ({ ...row, updated_at: `${row.updated_at?.replace(' ', 'T')}Z` })),
    );
    const state = stateDir();
    const sync = definition(warehouse, { lookback: '2s' });
    expect((await run(sync, state)).report).toMatchObject({
      rowsRead: 10,
      window: { upTo: '2025-11-22 10:00:09+00' },
    });
    await warehouse.write(
      [...rows(12), { id: 'zoned', updated_at: '2025-11-22T11:00:08+01:00' }].map((row) => ({
        ...row,
        updated_at: row.id === 'zoned' ? row.updated_at : `${row.updated_at?.replace(' ', 'T')}Z`,
      })),
    );
    // [10:00:09 − 2 s, 10:00:11]: r0007 … r0011 and the row written in another zone (10:00:08 UTC).
    const second = await run(sync, state);
    expect(second.report.rowsRead).toBe(6);
    expect(await accepted()).toBe(13);
  });

  it.each([
    ['DuckDB file', () => duckDbFile('VARCHAR')],
    ['CSV read as text', () => csvFile('VARCHAR')],
  ])(
    '%s: other text is refused on the first run, before anything is sent, with the cast to write',
    async (_name, make) => {
      const warehouse = make();
      await warehouse.write(
        rows(10).map((row, i) => ({ ...row, updated_at: i === 3 ? '22/11/2025 10:00' : row.updated_at })),
      );
      const state = stateDir();
      await expect(run(definition(warehouse), state)).rejects.toThrow(
        /cursor "updated_at" is VARCHAR and 1 of its values are not ISO-8601 timestamps \(e\.g\. "22\/11\/2025 10:00"\).*strptime\("updated_at"/,
      );
      await expect(preview(definition(warehouse))).rejects.toThrow(/cursor "updated_at" is VARCHAR/);
      expect(await accepted()).toBe(0);
    },
  );

  it('a cursor type the lookback cannot go back on is refused before anything is sent', async () => {
    const warehouse = duckDbFile('BOOLEAN');
    const table = rows(4).map((row, i) => ({ ...row, updated_at: i % 2 === 0 ? 'true' : 'false' }));
    await warehouse.write(table);
    await expect(run(definition(warehouse), stateDir())).rejects.toThrow(
      /cursor "updated_at" is BOOLEAN: a cursor must be a timestamp, date or number \(or ISO-8601 text\)/,
    );
    expect(await accepted()).toBe(0);
  });
});

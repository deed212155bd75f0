import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { parseSyncDefinition, type SyncDefinition } from '../src/definition.js';
import { previewSync } from '../src/preview.js';
import { createSource } from '../src/sources/create.js';
import { sandboxRuns } from './support/sandbox-runs.js';

/**
 * Rows whose primary key is NULL, on DuckDB as a database file (integer key) and as a CSV file read
 * by a query (text key): they are dead-lettered with the reason, every other row is delivered, and
 * no checkpoint ever stands on them (a resumed run starts from a real key).
 */

const TOKEN = 'null-keys-token';
const { accepted, run } = sandboxRuns(TOKEN);

interface Row {
  id: number | null;
  minute: number;
}

/** 300 rows in pairs sharing a cursor value; every 7th row has no key (it sorts beside its pair). */
const ROWS: Row[] = Array.from({ length: 300 }, (_, i) => ({
  id: i % 7 === 3 ? null : i + 1,
  minute: Math.floor(i / 2),
}));
const KEYED = ROWS.filter((row) => row.id !== null).length;
const stamp = (minute: number) =>
  `2025-11-22 ${String(10 + Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}:00`;

interface Warehouse {
  name: string;
  write(rows: Row[]): Promise<void>;
  source: string;
}

function duckDbFile(): Warehouse {
  const file = join(mkdtempSync(join(tmpdir(), 'wh-null-keys-')), 'warehouse.duckdb');
  return {
    name: 'DuckDB file, integer key',
    async write(rows) {
      const instance = await DuckDBInstance.create(file);
      const connection = await instance.connect();
      await connection.run(
        'create or replace table events (id bigint, event_name varchar, device_id varchar, updated_at timestamp)',
      );
      const values = rows.map(
        (row, i) => `(${row.id ?? 'null'}, 'Opened', 'D-${i}', cast('${stamp(row.minute)}' as timestamp))`,
      );
      await connection.run(`insert into events values ${values.join(', ')}`);
      connection.closeSync();
      instance.closeSync();
    },
    source: `{ type: duckdb, database: ${JSON.stringify(file)}, table: events`,
  };
}

function csvFile(): Warehouse {
  const file = join(mkdtempSync(join(tmpdir(), 'wh-null-keys-csv-')), 'events.csv');
  const query = `select * from read_csv('${file}', header = true, types = {'id': 'VARCHAR', 'updated_at': 'TIMESTAMP'})`;
  return {
    name: 'CSV read by a query, text key',
    async write(rows) {
      const lines = rows.map(
        (row, i) =>
          `${row.id === null ? '' : `k${String(row.id).padStart(4, '0')}`},Opened,D-${i},${stamp(row.minute)}`,
      );
      writeFileSync(file, ['id,event_name,device_id,updated_at', ...lines, ''].join('\n'));
    },
    source: `{ type: duckdb, database: ":memory:", query: ${JSON.stringify(query)}`,
  };
}

function definition(warehouse: Warehouse, pageSize = 4): SyncDefinition {
  return parseSyncDefinition(
    [
      'name: null-keys',
      'mode: simplified',
      `page_size: ${pageSize}`,
      `source: ${warehouse.source}, cursor: updated_at, primary_key: id }`,
      'mapping:',
      '  type: events',
      '  event: event_name',
      '  time: updated_at',
      '  device_id: device_id',
      '  insert_id: [device_id]',
    ].join('\n'),
  );
}

describe.each([duckDbFile(), csvFile()].map((w) => [w.name, w] as const))(
  'NULL primary keys: %s',
  (_name, warehouse) => {
    it('dead-letters every row without a key with the reason and delivers all the others', async () => {
      await warehouse.write(ROWS);
      const { report, delivery, deadLetter } = await run(
        definition(warehouse),
        mkdtempSync(join(tmpdir(), 'nk-')),
      );
      expect(report).toMatchObject({ rowsRead: ROWS.length, invalid: ROWS.length - KEYED });
      expect(report.invalidByReason).toEqual({ 'id: null_key': ROWS.length - KEYED });
      expect(delivery).toMatchObject({ delivered: KEYED, deadLettered: ROWS.length - KEYED });
      expect(deadLetter[0]?.reason).toMatch(/row with id NULL: id: the primary key is NULL.*coalesce\(id/);
      expect(await accepted()).toBe(KEYED);
    });

    it('never checkpoints on a row without a key: a run stopped after any page resumes and loses nothing', async () => {
      await warehouse.write(ROWS);
      // Pages of 10 end on a row without a key (where the old window put its checkpoint) at page 4.
      for (const stopAfter of [1, 2, 4, 6]) {
        const state = mkdtempSync(join(tmpdir(), 'nk-resume-'));
        let pages = 0;
        const stopped = run(definition(warehouse, 10), state, {
          onPage: () => {
            if (++pages === stopAfter) throw new Error('stopped');
          },
        });
        await expect(stopped).rejects.toThrow('stopped');
        const saved = JSON.parse(readFileSync(join(state, 'state.json'), 'utf8')) as {
          inProgress?: { position?: { key: string } };
        };
        expect(saved.inProgress?.position?.key).not.toMatch(/^(null|)$/);
        const resumed = await run(definition(warehouse, 10), state);
        expect(resumed.report.invalidByReason).toEqual({ 'id: null_key': ROWS.length - KEYED });
      }
      // Every keyed row reached the sandbox (resent rows are deduplicated by their $insert_id).
      expect(await accepted()).toBe(KEYED);
    });

    it('preview warns about rows without a key and counts them as the run would', async () => {
      await warehouse.write(ROWS);
      const definitionOf = definition(warehouse);
      const source = createSource(definitionOf, tmpdir());
      await source.connect();
      try {
        const report = await previewSync(definitionOf, source);
        expect(report.invalidByReason).toMatchObject({ 'id: null_key': ROWS.length - KEYED });
        expect(report.warnings.find((w) => w.code === 'null_key')).toMatchObject({
          count: ROWS.length - KEYED,
        });
      } finally {
        await source.close();
      }
    });
  },
);

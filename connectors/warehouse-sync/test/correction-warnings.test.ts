import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { parseSyncDefinition } from '../src/definition.js';
import { previewSync } from '../src/preview.js';
import { createDuckDbSource } from '../src/sources/duckdb.js';

const definition = (insertId: string) =>
  parseSyncDefinition(
    [
      'name: orders',
      'mode: simplified',
      'source: { type: duckdb, table: orders, cursor: updated_at, primary_key: order_id }',
      `mapping: { type: events, event: { value: Order }, time: placed_at, user_id: customer, insert_id: ${insertId} }`,
    ].join('\n'),
  );

describe('preview: insert_id mappings that make corrections duplicate events', () => {
  it('warns when the insert_id hashes columns a correction can change, naming them; not for stable ones', async () => {
    const database = join(mkdtempSync(join(tmpdir(), 'wh-corrections-')), 'w.duckdb');
    const instance = await DuckDBInstance.create(database);
    const connection = await instance.connect();
    await connection.run(
      "create table orders as select 1 as order_id, 'C1' as customer, timestamptz '2025-11-22 08:00:00+00' as placed_at, 9.5 as amount, timestamptz '2025-11-22 09:00:00+00' as updated_at",
    );
    connection.closeSync();
    instance.closeSync();
    const preview = async (insertId: string) => {
      const source = createDuckDbSource({
        database,
        table: 'orders',
        cursor: 'updated_at',
        primaryKey: 'order_id',
      });
      await source.connect();
      try {
        return (await previewSync(definition(insertId), source)).warnings.filter(
          (w) => w.code === 'insert_id_changes_with_corrections',
        );
      } finally {
        await source.close();
      }
    };
    const changing = await preview('[order_id, amount, updated_at]');
    expect(changing).toHaveLength(1);
    expect(changing[0]?.examples).toEqual(['amount', 'updated_at']);
    expect(changing[0]?.message).toMatch(
      /hashes "amount", "updated_at".*Mixpanel keeps both events.*"order_id"/,
    );
    expect(await preview('updated_at')).toHaveLength(1);
    expect(await preview('order_id')).toEqual([]);
    expect(await preview('[order_id, customer, placed_at]')).toEqual([]);
  });
});

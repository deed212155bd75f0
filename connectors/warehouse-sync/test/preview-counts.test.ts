import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { parseSyncDefinition } from '../src/definition.js';
import { previewSync } from '../src/preview.js';
import { createDuckDbSource } from '../src/sources/duckdb.js';

async function ordersDatabase(): Promise<string> {
  const database = join(mkdtempSync(join(tmpdir(), 'wh-preview-counts-')), 'w.duckdb');
  const instance = await DuckDBInstance.create(database);
  const connection = await instance.connect();
  // Three orders; the third has no customer, so it cannot be sent.
  await connection.run(
    "create table orders as select * from (values (1, 'C1', timestamptz '2025-11-22 08:00:00+00'), (2, 'C2', timestamptz '2025-11-22 08:01:00+00'), (3, null, timestamptz '2025-11-22 08:02:00+00')) t(order_id, customer, placed_at)",
  );
  connection.closeSync();
  instance.closeSync();
  return database;
}

async function preview(database: string, mapping: string) {
  const definition = parseSyncDefinition(
    `name: orders\nmode: simplified\nsource: { type: duckdb, table: orders, primary_key: order_id }\nmapping: ${mapping}\n`,
  );
  const source = createDuckDbSource({ database, table: 'orders', primaryKey: 'order_id' });
  await source.connect();
  try {
    return (await previewSync(definition, source)).counts;
  } finally {
    await source.close();
  }
}

describe('preview counts', () => {
  it('events: every valid row read counts as created, and says that Mixpanel is not compared', async () => {
    const counts = await preview(
      await ordersDatabase(),
      '{ type: events, event: { value: Order }, time: placed_at, user_id: customer, insert_id: order_id }',
    );
    expect(counts).toMatchObject({ created: 2, updated: 0, unchanged: 0 });
    expect(counts.deleted).toBeUndefined();
    expect(counts.notes).toEqual([expect.stringMatching(/events are not compared with Mixpanel/)]);
  });

  it('profiles with no sync state: every valid row counts as created, and the preview says so', async () => {
    const counts = await preview(await ordersDatabase(), '{ type: profiles, user_id: customer }');
    expect(counts).toMatchObject({ created: 2, updated: 0, unchanged: 0 });
    expect(counts.notes).toEqual([expect.stringMatching(/no sync state given/)]);
  });
});

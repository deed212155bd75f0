import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseSyncDefinition, type SyncDefinition } from '../src/definition.js';
import { runSync } from '../src/run.js';
import { createDuckDbSource } from '../src/sources/duckdb.js';
import { StateStore } from '../src/state.js';
import { createSourceInWorker } from '../src/worker/source-in-worker.js';
import { recordingSender } from './support/recording-sender.js';

const ENTRY = new URL('./fakes/source-worker-entry.mjs', import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'wh-worker-'));
const database = join(dir, 'warehouse.duckdb');

beforeAll(async () => {
  const instance = await DuckDBInstance.create(database);
  const connection = await instance.connect();
  await connection.run(`
    create table events as
    select i as id, 'Played' as name, timestamptz '2025-11-01 00:00:00+00' + to_seconds(i // 3) as at,
      case when i % 50 = 7 then null else 'dev-' || i % 17 end as device, 'kept out' as note
    from range(5000) t(i)`);
  // Every 10th row without a cursor; ids 0–99 twice (a second row with the same key and time).
  await connection.run(`
    create table edge_events as
    select id, name, case when id % 10 = 3 then null else "at" end as "at", device, note from events
    union all select id, name, "at", 'dev-again', note from events where id < 100`);
  connection.closeSync();
  instance.closeSync();
});

function definition(name = 'events', table = 'events'): SyncDefinition {
  return parseSyncDefinition(
    [
      `name: ${name}`,
      'mode: simplified',
      'page_size: 500',
      `source: { type: duckdb, database: warehouse.duckdb, table: ${table}, cursor: at, primary_key: id }`,
      'mapping: { type: events, event: name, time: at, device_id: device, insert_id: id, properties: { exclude: [note] } }',
    ].join('\n'),
  );
}

async function runWith(source: Parameters<typeof runSync>[1], sync = definition()) {
  const sender = recordingSender();
  const store = new StateStore(mkdtempSync(join(dir, 'state-')));
  await source.connect();
  try {
    const report = await runSync(sync, source, sender, store);
    return { report, sender, state: store.load() };
  } finally {
    await source.close();
  }
}

describe('a source read and mapped in a worker thread', () => {
  it('hands over exactly what reading and mapping in the run’s thread does, in the same order', async () => {
    const here = await runWith(
      createDuckDbSource({ database, table: 'events', cursor: 'at', primaryKey: 'id' }),
    );
    const there = await runWith(createSourceInWorker(definition(), dir, { entry: ENTRY, ahead: 2 }));
    expect(there.sender.sent).toEqual(here.sender.sent);
    expect(there.sender.sent).toHaveLength(4900);
    expect(JSON.stringify(there.sender.sent[0])).not.toContain('kept out');
    expect(there.sender.rejected).toEqual(here.sender.rejected);
    expect(there.sender.rejected).toHaveLength(100);
    const { elapsedMs: _a, rowsPerSecond: _b, ...reportThere } = there.report;
    const { elapsedMs: _c, rowsPerSecond: _d, ...reportHere } = here.report;
    expect(reportThere).toEqual(reportHere);
    expect(there.state).toEqual(here.state);
  });

  it('counts NULL cursors and duplicate keys, and dead-letters NULL cursors, as the run’s thread does', async () => {
    const sync = definition('edges', 'edge_events');
    const here = await runWith(
      createDuckDbSource({ database, table: 'edge_events', cursor: 'at', primaryKey: 'id' }),
      sync,
    );
    const there = await runWith(createSourceInWorker(sync, dir, { entry: ENTRY, ahead: 2 }), sync);
    expect(here.report).toMatchObject({ rowsRead: 5100, nullCursor: 500, duplicateKeys: 90 });
    const { elapsedMs: _a, rowsPerSecond: _b, ...reportThere } = there.report;
    const { elapsedMs: _c, rowsPerSecond: _d, ...reportHere } = here.report;
    expect(reportThere).toEqual(reportHere);
    expect(there.sender.rejected).toEqual(here.sender.rejected);
    expect(there.sender.rejected.filter((r) => /the cursor is NULL/.test(r.reason))).toHaveLength(500);
  });

  it('stops reading when the reader stops early, and reads on from a position afterwards', async () => {
    const source = createSourceInWorker(definition(), dir, { entry: ENTRY, ahead: 1 });
    await source.connect();
    try {
      const upTo = await source.maxCursor();
      expect(upTo).toBe('2025-11-01 00:27:46+00');
      let first;
      for await (const page of source.mappedPages({ pageSize: 500, upTo })) {
        first = page;
        break;
      }
      expect(first?.rows).toHaveLength(500);
      const rest = [];
      for await (const page of source.mappedPages({ pageSize: 500, upTo, from: first?.last }))
        rest.push(...page.rows);
      expect(rest).toHaveLength(4500);
    } finally {
      await source.close();
    }
  });

  it('passes on the warehouse’s error, and a worker that dies, as errors of the run', async () => {
    const missing = createSourceInWorker(definition('events', 'no_such_table'), dir, {
      entry: ENTRY,
    });
    await expect(missing.connect()).rejects.toThrow(/no_such_table/);
    await missing.close();

    const dying = createSourceInWorker(definition('crash-on-start'), dir, { entry: ENTRY });
    await expect(dying.connect()).rejects.toThrow(/worker thread stopped \(exit code 3\)/);
    await dying.close();
  });
});

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeadLetterList, createSender, startSandbox, type RunningSandbox } from '@idmerge/shared';
import { parseSyncDefinition } from '../src/definition.js';
import { runSync } from '../src/run.js';
import { createDuckDbSource } from '../src/sources/duckdb.js';
import { StateStore } from '../src/state.js';

const TOKEN = 'poison-token';
let sandbox: RunningSandbox;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, host: '127.0.0.1', mode: 'simplified', projectToken: TOKEN });
});
afterAll(async () => {
  await sandbox.close();
});

describe('poison values in warehouse rows (DuckDB → mapping → sender → sandbox)', () => {
  it('a time of ±1e20 or NaN refuses its row alone: the others are delivered, the poison ones dead-lettered', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'wh-poison-')), 'warehouse.duckdb');
    const instance = await DuckDBInstance.create(file);
    const connection = await instance.connect();
    await connection.run(
      'create table events (id varchar, event_name varchar, event_time double, device_id varchar, updated_at timestamp)',
    );
    await connection.run(
      "insert into events select 'r' || i, 'Opened', case when i = 500 then 1e20 when i = 600 then -1e20 when i = 700 then 'nan'::double else 1763800000 + i end, 'D' || i, timestamp '2025-11-22 10:00:00' + to_seconds(i) from range(1000) t(i)",
    );
    connection.closeSync();
    instance.closeSync();

    const definition = parseSyncDefinition(
      [
        'name: poison',
        'mode: simplified',
        'page_size: 100',
        'source: { type: duckdb, table: events, cursor: updated_at, primary_key: id }',
        'mapping:',
        '  type: events',
        '  event: event_name',
        '  time: event_time',
        '  device_id: device_id',
        '  insert_id: id',
        '  properties: { exclude: [updated_at] }',
      ].join('\n'),
    );
    const source = createDuckDbSource({
      database: file,
      table: 'events',
      cursor: 'updated_at',
      primaryKey: 'id',
    });
    await source.connect();
    const deadLetter = createDeadLetterList();
    const sender = createSender(
      { region: 'us', apiHost: sandbox.url, auth: { kind: 'token', token: TOKEN }, secrets: [TOKEN] },
      { deadLetter, maxRetries: 2, sleep: async () => {} },
    );
    try {
      const report = await runSync(
        definition,
        source,
        sender,
        new StateStore(mkdtempSync(join(tmpdir(), 'wh-poison-state-'))),
      );
      await sender.flush();
      expect(report.rowsRead).toBe(1000);
    } finally {
      await source.close();
    }
    const stats = (await (await fetch(`${sandbox.url}/_sandbox/stats`)).json()) as { accepted: number };
    expect(stats.accepted).toBe(997);
    expect(deadLetter.entries).toHaveLength(3);
    for (const id of ['r500', 'r600', 'r700']) {
      const entry = deadLetter.entries.find((e) => JSON.stringify(e.record).includes(`"${id}"`));
      // The reason names the column and says what is wrong with the value, not an internal error.
      expect(entry?.field, id).toBe('event_time');
      expect(entry?.reason, id).toMatch(/not a time|before 1971|future/);
    }
  });
});

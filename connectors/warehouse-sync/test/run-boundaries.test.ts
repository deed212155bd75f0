import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeadLetterList, createSender, startSandbox, type RunningSandbox } from '@idmerge/shared';
import { parseSyncDefinition } from '../src/definition.js';
import { runSync } from '../src/run.js';
import { createDuckDbSource } from '../src/sources/duckdb.js';
import { StateStore } from '../src/state.js';

const TOKEN = 'boundary-token';
let sandbox: RunningSandbox;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, host: '127.0.0.1', mode: 'simplified', projectToken: TOKEN });
});
afterAll(async () => {
  await sandbox.close();
});

async function get<T>(path: string): Promise<T> {
  return (await fetch(`${sandbox.url}${path}`)).json() as Promise<T>;
}
async function sandboxEvents(): Promise<Array<{ event: string; properties: Record<string, unknown> }>> {
  const text = await (await fetch(`${sandbox.url}/_sandbox/events`)).text();
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { event: string; properties: Record<string, unknown> });
}
const stats = () => get<{ accepted: number; received: number; duplicates: number }>('/_sandbox/stats');

/** A fresh DuckDB warehouse file; `sql` runs against it (the file is closed between calls). */
function warehouse() {
  const file = join(mkdtempSync(join(tmpdir(), 'wh-boundary-')), 'warehouse.duckdb');
  return {
    file,
    async sql(...statements: string[]) {
      const instance = await DuckDBInstance.create(file);
      const connection = await instance.connect();
      for (const statement of statements) await connection.run(statement);
      connection.closeSync();
      instance.closeSync();
    },
  };
}

/** One run of an events sync through the real sender into the sandbox. */
async function run(
  database: string,
  stateDir: string,
  options: {
    lookback?: string;
    pageSize?: number;
    timeZone?: string;
    name?: string;
    apiHost?: string;
    maxRetries?: number;
    /** The sender's retryFailedLater, as `idmerge sync` sets it (default false here). */
    retryFailedLater?: boolean;
  } = {},
) {
  const definition = parseSyncDefinition(
    [
      `name: ${options.name ?? 'events'}`,
      'mode: simplified',
      `page_size: ${options.pageSize ?? 100}`,
      `lookback: ${options.lookback ?? '0s'}`,
      'source: { type: duckdb, table: events, cursor: updated_at, primary_key: id }',
      'mapping:',
      '  type: events',
      '  event: event_name',
      '  time: event_time',
      `  time_zone: ${options.timeZone ?? 'UTC'}`,
      '  device_id: device_id',
      '  user_id: user_id',
      '  insert_id: id',
      '  properties: { exclude: [updated_at] }',
    ].join('\n'),
  );
  const source = createDuckDbSource({ database, table: 'events', cursor: 'updated_at', primaryKey: 'id' });
  await source.connect();
  const deadLetter = createDeadLetterList();
  const sender = createSender(
    {
      region: 'us',
      apiHost: options.apiHost ?? sandbox.url,
      auth: { kind: 'token', token: TOKEN },
      secrets: [TOKEN],
    },
    {
      deadLetter,
      maxRetries: options.maxRetries ?? 5,
      sleep: async () => {},
      retryFailedLater: options.retryFailedLater,
    },
  );
  try {
    const report = await runSync(definition, source, sender, new StateStore(stateDir));
    return { report, delivery: await sender.flush(), deadLetter: deadLetter.entries };
  } finally {
    await source.close();
  }
}

const TABLE =
  'create table events (id varchar, event_name varchar, event_time varchar, device_id varchar, user_id varchar, updated_at timestamp)';

describe('warehouse sync boundaries (DuckDB → sender → sandbox)', () => {
  it('a row committed late, below the last bound, is picked up by the lookback (and missed without it)', async () => {
    const wh = warehouse();
    await wh.sql(
      TABLE,
      "insert into events select 'late-' || i, 'Opened', '2025-11-22T10:00:00Z', 'LD' || i, null, timestamp '2025-11-22 10:00:00' + to_minutes(i) from range(6) t(i)",
    );
    const withLookback = mkdtempSync(join(tmpdir(), 'wh-state-'));
    const without = mkdtempSync(join(tmpdir(), 'wh-state-'));
    expect((await run(wh.file, withLookback, { lookback: '2m' })).report.rowsRead).toBe(6);
    expect((await run(wh.file, without, { name: 'no-lookback' })).report.rowsRead).toBe(6);
    const before = await stats();

    // A transaction that started earlier commits now: its row's cursor (10:04:30) is below the bound (10:05).
    await wh.sql(
      "insert into events values ('late-x', 'Opened', '2025-11-22T10:04:30Z', 'LDX', null, timestamp '2025-11-22 10:04:30')",
      "insert into events values ('late-6', 'Opened', '2025-11-22T10:06:00Z', 'LD6', null, timestamp '2025-11-22 10:06:00')",
    );
    const noLookback = await run(wh.file, without, { name: 'no-lookback' });
    // The bound's own row (10:05, re-read: the lower bound is inclusive) and late-6: late-x, below
    // the bound, is lost without a lookback.
    expect(noLookback.report.rowsRead).toBe(2);

    const second = await run(wh.file, withLookback, { lookback: '2m' });
    // [10:05 − 2 min, 10:06] re-reads 10:03, 10:04 and 10:05 (already delivered: deduplicated) and finds late-x.
    expect(second.report.rowsRead).toBe(5);
    const after = await stats();
    expect(after.accepted - before.accepted).toBe(2); // late-x and late-6, each once
    const ids = (await sandboxEvents()).map((e) => e.properties.$insert_id);
    expect(ids.filter((id) => id === 'late-x')).toHaveLength(1);
  });

  it('rows tied on the cursor across page boundaries are each delivered exactly once', async () => {
    const wh = warehouse();
    await wh.sql(
      TABLE,
      // 11 rows over 3 cursor values; pages of 3 cut through every run of ties.
      "insert into events select 'tie-' || lpad(i::varchar, 2, '0'), 'Tied', '2025-11-22T11:00:00Z', 'TD' || i, null, timestamp '2025-11-22 11:00:00' + to_minutes(i // 4) from range(11) t(i)",
    );
    const before = await stats();
    const result = await run(wh.file, mkdtempSync(join(tmpdir(), 'wh-state-')), { pageSize: 3 });
    expect(result.report.rowsRead).toBe(11);
    expect(result.delivery).toMatchObject({ delivered: 11, deadLettered: 0 });
    const after = await stats();
    expect(after.accepted - before.accepted).toBe(11);
    expect(after.duplicates - before.duplicates).toBe(0);
  });

  it('the same instant written three ways arrives as the same time', async () => {
    const wh = warehouse();
    await wh.sql(
      TABLE,
      "insert into events values ('tz-z', 'Zoned', '2025-11-22T14:30:00Z', 'TZ1', null, timestamp '2025-11-22 12:00:00')",
      "insert into events values ('tz-offset', 'Zoned', '2025-11-22T15:30:00+01:00', 'TZ2', null, timestamp '2025-11-22 12:00:01')",
      // No zone in the text: the definition's time_zone (New York, UTC−5 in November) applies.
      "insert into events values ('tz-local', 'Zoned', '2025-11-22 09:30:00', 'TZ3', null, timestamp '2025-11-22 12:00:02')",
    );
    const result = await run(wh.file, mkdtempSync(join(tmpdir(), 'wh-state-')), {
      timeZone: 'America/New_York',
    });
    expect(result.delivery).toMatchObject({ delivered: 3, deadLettered: 0 });
    const times = (await sandboxEvents())
      .filter((e) => e.event === 'Zoned')
      .map((e) => Number(e.properties.time));
    expect(times).toHaveLength(3);
    expect(new Set(times.map((t) => (t > 1e11 ? Math.floor(t / 1000) : t)))).toEqual(
      new Set([Date.UTC(2025, 10, 22, 14, 30) / 1000]),
    );
  });

  it('a row that could not be delivered is dead-lettered with its key and the payload that was sent', async () => {
    const wh = warehouse();
    await wh.sql(
      TABLE,
      "insert into events select 'row-' || i, 'Opened', '2025-11-22T10:00:00Z', 'DD' || i, 'user-' || i, timestamp '2025-11-22 10:00:00' + to_minutes(i) from range(5) t(i)",
    );
    // Nothing listens on port 9 (discard) of the loopback: every request fails at once.
    const result = await run(wh.file, mkdtempSync(join(tmpdir(), 'wh-state-')), {
      apiHost: 'http://127.0.0.1:9',
      maxRetries: 0,
    });
    expect(result.delivery).toMatchObject({ delivered: 0, deadLettered: 5 });
    const byKey = new Map(result.deadLetter.map((entry) => [(entry.record as { id: string }).id, entry]));
    expect([...byKey.keys()].sort()).toEqual(['row-0', 'row-1', 'row-2', 'row-3', 'row-4']);
    for (const [key, entry] of byKey) {
      // As the dead-letter file holds it (JSON).
      expect(JSON.parse(JSON.stringify(entry.record))).toEqual({ id: key });
      expect(entry.stage).toBe('exhausted');
      expect(entry.payload).toMatchObject({
        event: 'Opened',
        properties: { $device_id: `DD${key.slice(4)}`, $user_id: `user-${key.slice(4)}` },
      });
    }
  });

  it('rows that failed for a reason not theirs hold the checkpoint and bound, and the next run sends them', async () => {
    const wh = warehouse();
    await wh.sql(
      TABLE,
      "insert into events select 'held-' || i, 'Opened', '2025-11-22T10:00:00Z', 'HD' || i, null, timestamp '2025-11-22 10:00:00' + to_minutes(i) from range(7) t(i)",
    );
    const stateDir = mkdtempSync(join(tmpdir(), 'wh-state-'));
    const failed = await run(wh.file, stateDir, {
      apiHost: 'http://127.0.0.1:9',
      maxRetries: 0,
      pageSize: 2,
      retryFailedLater: true,
    });
    expect(failed.report.incomplete).toMatch(/gave up after 0 retries/);
    expect(failed.delivery).toMatchObject({ delivered: 0, deadLettered: 0 });
    expect(failed.delivery.toRetry).toBeGreaterThan(0);
    expect(failed.deadLetter).toEqual([]);
    const held = new StateStore(stateDir).load();
    expect(held.bound).toBeUndefined();
    expect(held.inProgress?.position).toBeUndefined();
    const before = await stats();
    const next = await run(wh.file, stateDir, { pageSize: 2, retryFailedLater: true });
    expect(next.report).toMatchObject({ rowsRead: 7, resumed: true });
    expect(next.report.incomplete).toBeUndefined();
    expect((await stats()).accepted - before.accepted).toBe(7);
    expect(new StateStore(stateDir).load()).toMatchObject({ bound: expect.any(String), completedRuns: 1 });
  });

  it('checkpoints follow delivery in page order, while later pages are already read and sent', async () => {
    const wh = warehouse();
    await wh.sql(
      TABLE,
      "insert into events select 'r' || i, 'Opened', '2025-11-22T10:00:00Z', 'PD' || i, null, timestamp '2025-11-22 10:00:00' + to_minutes(i) from range(10) t(i)",
    );
    // An /import endpoint that holds each reply until the test releases it.
    const held: Array<{ ids: string[]; reply: () => void }> = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const events = JSON.parse(gunzipSync(Buffer.concat(chunks)).toString()) as Array<{
          properties: { $device_id: string };
        }>;
        held.push({
          ids: events.map((e) => e.properties.$device_id),
          reply: () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"code":200}'),
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const until = async (condition: () => boolean) => {
      while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
    };
    const stateDir = mkdtempSync(join(tmpdir(), 'wh-state-'));
    const position = () => new StateStore(stateDir).load().inProgress?.position?.key;
    const definition = parseSyncDefinition(
      [
        'name: events',
        'mode: simplified',
        'page_size: 2',
        'source: { type: duckdb, table: events, cursor: updated_at, primary_key: id }',
        'mapping: { type: events, event: event_name, time: event_time, device_id: device_id, insert_id: id }',
      ].join('\n'),
    );
    const source = createDuckDbSource({
      database: wh.file,
      table: 'events',
      cursor: 'updated_at',
      primaryKey: 'id',
    });
    await source.connect();
    const sender = createSender(
      {
        region: 'us',
        apiHost: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        auth: { kind: 'token', token: TOKEN },
        secrets: [TOKEN],
      },
      { batchSize: 2 },
    );
    try {
      const running = runSync(definition, source, sender, new StateStore(stateDir));
      // Every page is read and sent while no reply has come back, and nothing is checkpointed.
      await until(() => held.length === 5);
      // Requests travel on parallel connections, so they may arrive out of order: put them in page order.
      held.sort((a, b) => Number(a.ids[0]?.slice(2)) - Number(b.ids[0]?.slice(2)));
      expect(held.map((request) => request.ids)).toEqual([
        ['PD0', 'PD1'],
        ['PD2', 'PD3'],
        ['PD4', 'PD5'],
        ['PD6', 'PD7'],
        ['PD8', 'PD9'],
      ]);
      expect(position()).toBeUndefined();
      // A later page delivered first does not move the checkpoint past an undelivered one.
      held[2]?.reply();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(position()).toBeUndefined();
      held[0]?.reply();
      await until(() => position() === 'r1');
      held[1]?.reply();
      await until(() => position() === 'r5');
      held[3]?.reply();
      held[4]?.reply();
      const report = await running;
      expect(report.rowsRead).toBe(10);
      expect(new StateStore(stateDir).load()).toMatchObject({
        bound: '2025-11-22 10:09:00',
        completedRuns: 1,
      });
      expect((await sender.flush()).delivered).toBe(10);
    } finally {
      server.close();
      await source.close();
    }
  });

  it('bad rows never stop a run: each is counted and dead-lettered with its row key and reason', async () => {
    const wh = warehouse();
    await wh.sql(
      TABLE,
      "insert into events select 'good-' || i, 'Fine', '2025-11-22T12:00:00Z', 'GD' || i, 'U' || i, timestamp '2025-11-22 12:00:00' + to_seconds(i) from range(20) t(i)",
      "insert into events values ('bad-noid', 'Fine', '2025-11-22T12:00:00Z', null, null, timestamp '2025-11-22 12:00:03.5')",
      "insert into events values ('bad-id', 'Fine', '2025-11-22T12:00:00Z', 'undefined', null, timestamp '2025-11-22 12:00:04.5')",
      "insert into events values ('bad-time', 'Fine', 'last tuesday', 'BD3', null, timestamp '2025-11-22 12:00:05.5')",
      "insert into events values ('bad-old', 'Fine', '1960-01-01T00:00:00Z', 'BD4', null, timestamp '2025-11-22 12:00:06.5')",
      "insert into events values ('bad-noname', null, '2025-11-22T12:00:00Z', 'BD5', null, timestamp '2025-11-22 12:00:07.5')",
      'alter table events add column note varchar',
      "insert into events values ('bad-huge', 'Fine', '2025-11-22T12:00:00Z', 'BD6', null, timestamp '2025-11-22 12:00:08.5', repeat('x', 1100000))",
    );
    const result = await run(wh.file, mkdtempSync(join(tmpdir(), 'wh-state-')), { pageSize: 4 });
    const { report, delivery, deadLetter } = result;
    expect(report.rowsRead).toBe(26);
    expect(delivery.delivered).toBe(20);
    // The report adds up: every row read is delivered or dead-lettered, nothing else.
    expect(delivery.delivered + delivery.deadLettered).toBe(report.rowsRead);
    expect(deadLetter).toHaveLength(6);
    const byKey = new Map(deadLetter.map((entry) => [(entry.record as { id: string }).id, entry]));
    expect([...byKey.keys()].sort()).toEqual(
      ['bad-huge', 'bad-id', 'bad-noid', 'bad-noname', 'bad-old', 'bad-time'].sort(),
    );
    expect(byKey.get('bad-noid')?.reason).toMatch(/id=bad-noid.*(device|user)/i);
    expect(byKey.get('bad-id')?.reason).toMatch(/undefined/);
    expect(byKey.get('bad-time')?.reason).toMatch(/last tuesday|time/);
    expect(byKey.get('bad-old')?.reason).toMatch(/1971/);
    expect(byKey.get('bad-huge')?.reason).toMatch(/^row id=bad-huge: the event is \d+ bytes as JSON/);
    expect(report.invalidByReason).toMatchObject({
      'whole row: invalid_payload': 1,
      'event_time: bad_time': 2,
    });
    for (const entry of deadLetter) expect(entry.stage).toBe('validation');
    expect(report.invalid + report.payloads).toBe(report.rowsRead);
  });
});

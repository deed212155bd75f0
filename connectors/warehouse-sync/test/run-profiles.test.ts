import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import type { DeliveryReport, Payload, Sender } from '@idmerge/shared';
import { parseSyncDefinition } from '../src/definition.js';
import { runSync } from '../src/run.js';
import { createDuckDbSource } from '../src/sources/duckdb.js';
import { StateStore } from '../src/state.js';

/** Keeps what a run hands over, as the sender would deliver it. */
function recordingSender(): Sender & { sent: Payload[]; rejected: string[] } {
  const sent: Payload[] = [];
  const rejected: string[] = [];
  const report = { recordsIn: 0, delivered: 0, deadLettered: 0 } as unknown as DeliveryReport;
  return {
    sent,
    rejected,
    report,
    send: (payload) => {
      sent.push(payload);
      return undefined;
    },
    reject: async (_original, reason) => {
      rejected.push(reason);
    },
    drain: async () => {},
    flush: async () => report,
  };
}

async function warehouse(statements: string[]): Promise<string> {
  const file = join(mkdtempSync(join(tmpdir(), 'wh-profiles-')), 'warehouse.duckdb');
  const instance = await DuckDBInstance.create(file);
  const connection = await instance.connect();
  for (const sql of statements) await connection.run(sql);
  connection.closeSync();
  instance.closeSync();
  return file;
}

async function run(database: string, stateDir: string, fullRefresh = false) {
  const definition = parseSyncDefinition(
    'name: users\nmode: simplified\npage_size: 2\nsource: { type: duckdb, table: users, primary_key: user_id }\n' +
      'mapping: { type: profiles, user_id: user_id }\n',
  );
  const source = createDuckDbSource({ database, table: 'users', primaryKey: 'user_id' });
  await source.connect();
  const sender = recordingSender();
  try {
    const report = await runSync(definition, source, sender, new StateStore(stateDir), { fullRefresh });
    return { report, sent: sender.sent.map((p) => p.body as unknown as Record<string, unknown>) };
  } finally {
    await source.close();
  }
}

describe('profiles change detection', () => {
  it('sends only profiles whose mapped values changed since the last run; full refresh sends all', async () => {
    const database = await warehouse([
      'create table users (user_id varchar, plan varchar, seats integer)',
      "insert into users values ('u1', 'free', 1), ('u2', 'pro', 5), ('u3', 'pro', 9)",
    ]);
    const stateDir = mkdtempSync(join(tmpdir(), 'wh-profiles-state-'));

    const first = await run(database, stateDir);
    expect(first.sent.map((b) => b.$distinct_id)).toEqual(['u1', 'u2', 'u3']);
    expect(first.report.unchanged).toBe(0);

    const second = await run(database, stateDir);
    expect(second.sent).toEqual([]);
    expect(second.report).toMatchObject({ rowsRead: 3, unchanged: 3, payloads: 0 });

    const db = await DuckDBInstance.create(database);
    const connection = await db.connect();
    await connection.run("update users set plan = 'enterprise' where user_id = 'u2'");
    await connection.run("insert into users values ('u4', 'free', 1)");
    connection.closeSync();
    db.closeSync();

    const third = await run(database, stateDir);
    expect(third.sent).toEqual([
      expect.objectContaining({ $distinct_id: 'u2', $set: expect.objectContaining({ plan: 'enterprise' }) }),
      expect.objectContaining({ $distinct_id: 'u4' }),
    ]);
    expect(third.report).toMatchObject({ rowsRead: 4, unchanged: 2, payloads: 2 });

    const refreshed = await run(database, stateDir, true);
    expect(refreshed.sent.map((b) => b.$distinct_id)).toEqual(['u1', 'u2', 'u3', 'u4']);
    expect((await run(database, stateDir)).sent).toEqual([]);
  });
});

describe('ProfileHashes', () => {
  it('keeps committed hashes across restarts and ignores a line cut short by a crash', async () => {
    const { appendFileSync } = await import('node:fs');
    const { ProfileHashes, fingerprint } = await import('../src/profile-hashes.js');
    const dir = mkdtempSync(join(tmpdir(), 'wh-hashes-'));
    const hashes = new ProfileHashes(dir);
    hashes.set('a', fingerprint({ plan: 'free' }));
    hashes.set('b', fingerprint({ plan: 'pro' }));
    hashes.commit();
    hashes.set('c', fingerprint({ plan: 'x' })); // never committed: its page was not delivered
    appendFileSync(join(dir, 'profile-hashes.tsv'), '"d"\tabc');

    const reopened = new ProfileHashes(dir);
    expect(reopened.size).toBe(2);
    expect(reopened.unchanged('a', fingerprint({ plan: 'free' }))).toBe(true);
    expect(reopened.unchanged('b', fingerprint({ plan: 'free' }))).toBe(false);
    reopened.compact();
    expect(new ProfileHashes(dir).size).toBe(2);
  });
});

import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { createDeadLetterList, createSender } from '@idmerge/shared';
import { parseSyncDefinition } from '../src/definition.js';
import { runSync } from '../src/run.js';
import { createDuckDbSource } from '../src/sources/duckdb.js';
import { StateStore } from '../src/state.js';
import { recordingSender } from './support/recording-sender.js';

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

describe('profiles Mixpanel refused', () => {
  it('are forgotten, so the next run sends them again; delivered ones are not', async () => {
    const database = await warehouse([
      'create table users (user_id varchar, plan varchar)',
      "insert into users values ('u1', 'free'), ('u2', 'pro'), ('u3', 'pro')",
    ]);
    const stateDir = mkdtempSync(join(tmpdir(), 'wh-refused-state-'));
    // An /engage endpoint on 127.0.0.1 that refuses any batch holding u2, until told otherwise.
    let refuseU2 = true;
    const received: string[][] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const text = decodeURIComponent(body.replace(/^data=/, '').replaceAll('+', ' '));
        const ids = (JSON.parse(text) as Array<{ $distinct_id: string }>).map((p) => p.$distinct_id);
        received.push(ids);
        const refused = refuseU2 && ids.includes('u2');
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(refused ? { status: 0, error: 'u2 is refused' } : { status: 1, error: null }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const definition = parseSyncDefinition(
      'name: users\nmode: simplified\npage_size: 2\nsource: { type: duckdb, table: users, primary_key: user_id }\n' +
        'mapping: { type: profiles, user_id: user_id }\n',
    );
    const runOnce = async () => {
      const source = createDuckDbSource({ database, table: 'users', primaryKey: 'user_id' });
      await source.connect();
      const deadLetter = createDeadLetterList();
      const sender = createSender(
        {
          region: 'us',
          apiHost: `http://127.0.0.1:${port}`,
          auth: { kind: 'token', token: 'profile-token' },
          secrets: [],
        },
        // Requests of two records: batches do not end with pages (checkpoints do not drain).
        { deadLetter, maxRetries: 0, batchSize: 2 },
      );
      try {
        await runSync(definition, source, sender, new StateStore(stateDir));
        return { report: await sender.flush(), deadLetter: deadLetter.entries };
      } finally {
        await source.close();
      }
    };
    try {
      const first = await runOnce();
      // Requests of two: [u1, u2] is refused as one request, [u3] is delivered.
      expect(first.report).toMatchObject({ delivered: 1, deadLettered: 2 });
      expect(received).toEqual([['u1', 'u2'], ['u3']]);

      refuseU2 = false;
      received.length = 0;
      const second = await runOnce();
      expect(received).toEqual([['u1', 'u2']]);
      expect(second.report).toMatchObject({ delivered: 2, deadLettered: 0 });

      received.length = 0;
      await runOnce();
      expect(received).toEqual([]);
    } finally {
      server.close();
    }
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

    // A key forgotten after its hash reached the disk stays forgotten after a crash (no compact).
    const again = new ProfileHashes(dir);
    again.forget('a');
    again.commit();
    expect(new ProfileHashes(dir).unchanged('a', fingerprint({ plan: 'free' }))).toBe(false);
    expect(new ProfileHashes(dir).size).toBe(1);
  });
  it('writes only the hashes set before a mark, and never one whose delivery failed meanwhile', async () => {
    const { ProfileHashes, fingerprint } = await import('../src/profile-hashes.js');
    const dir = mkdtempSync(join(tmpdir(), 'wh-hashes-mark-'));
    const hashes = new ProfileHashes(dir);
    const free = fingerprint({ plan: 'free' });
    hashes.set('a', free);
    hashes.set('b', free);
    const pageOne = hashes.mark();
    hashes.set('c', free); // the next page, still in flight
    hashes.set('d', free);
    hashes.forget('b'); // page one's b was refused
    hashes.forget('d'); // and so was the next page's d, before page one settled
    hashes.commitThrough(pageOne);
    let onDisk = new ProfileHashes(dir);
    expect(['a', 'b', 'c', 'd'].filter((key) => onDisk.unchanged(key, free))).toEqual(['a']);

    hashes.commitThrough(hashes.mark());
    onDisk = new ProfileHashes(dir);
    expect(['a', 'b', 'c', 'd'].filter((key) => onDisk.unchanged(key, free))).toEqual(['a', 'c']);
  });
});

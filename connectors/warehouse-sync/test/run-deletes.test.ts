import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDeadLetterList, createSender } from '@idmerge/shared';
import { parseSyncDefinition } from '../src/definition.js';
import { runSync, type RunReport } from '../src/run.js';
import { createDuckDbSource } from '../src/sources/duckdb.js';
import type { WarehouseSource } from '../src/sources/source.js';
import { StateStore } from '../src/state.js';

async function sql(database: string, ...statements: string[]): Promise<void> {
  const instance = await DuckDBInstance.create(database);
  const connection = await instance.connect();
  for (const statement of statements) await connection.run(statement);
  connection.closeSync();
  instance.closeSync();
}

type Update = Record<string, unknown> & { $distinct_id: string };

/**
 * An /engage endpoint on 127.0.0.1 that keeps what it accepted; `refuse` decides, per request,
 * to answer 503 instead.
 */
function engageServer(): Promise<{
  url: string;
  accepted: Update[];
  refuse: { updates: boolean; deletes: boolean };
  server: Server;
}> {
  const accepted: Update[] = [];
  const refuse = { updates: false, deletes: false };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const text = decodeURIComponent(body.replace(/^data=/, '').replaceAll('+', ' '));
      const records = JSON.parse(text) as Update[];
      if (records.some((r) => ('$delete' in r ? refuse.deletes : refuse.updates))) {
        res.writeHead(503).end('unavailable');
        return;
      }
      accepted.push(...records);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 1, error: null }));
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        accepted,
        refuse,
        server,
      }),
    ),
  );
}

const DEFINITION =
  'name: members\nmode: simplified\npage_size: 2\ndelete_missing: true\n' +
  'source: { type: duckdb, table: members, primary_key: member_id }\n' +
  'mapping: { type: profiles, user_id: user_id }\n';

describe('runSync with delete_missing', () => {
  let database: string;
  let stateDir: string;
  let endpoint: Awaited<ReturnType<typeof engageServer>>;
  beforeEach(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wh-deletes-unit-'));
    database = join(dir, 'warehouse.duckdb');
    stateDir = join(dir, 'state');
    // Members: the primary key is not the user ID, and two members (m3, m4) are the same user.
    await sql(
      database,
      'create table members (member_id varchar, user_id varchar, plan varchar)',
      "insert into members values ('m1', 'alice', 'free'), ('m2', 'bob', 'pro'), ('m3', 'carol', 'pro'), ('m4', 'carol', 'pro'), ('m5', 'dave', 'free')",
    );
    endpoint = await engageServer();
  });
  afterEach(() => {
    endpoint.server.close();
  });

  /** One run; `wrap` may put a fault in front of the real source. */
  async function run(
    options: { fullRefresh?: boolean; wrap?: (source: WarehouseSource) => WarehouseSource } = {},
  ): Promise<RunReport> {
    const definition = parseSyncDefinition(DEFINITION);
    const real = createDuckDbSource({ database, table: 'members', primaryKey: 'member_id' });
    const source = options.wrap ? options.wrap(real) : real;
    await source.connect();
    const sender = createSender(
      { region: 'us', apiHost: endpoint.url, auth: { kind: 'token', token: 'tok' }, secrets: [] },
      { deadLetter: createDeadLetterList(), maxRetries: 0, retryFailedLater: true },
    );
    try {
      return await runSync(definition, source, sender, new StateStore(stateDir), options);
    } finally {
      await sender.flush();
      await source.close();
    }
  }
  const deletes = () => endpoint.accepted.filter((u) => '$delete' in u).map((u) => u.$distinct_id);

  it('deletes the ID a gone key was sent as, and not an ID another row still has', async () => {
    await run();
    await sql(database, "delete from members where member_id in ('m2', 'm4')");
    const report = await run();
    // m2 was bob: deleted. m4 was carol, whom m3 still is: not deleted, the key just leaves the state.
    expect(deletes()).toEqual(['bob']);
    expect(report.deletes).toMatchObject({ sent: 1, accepted: 1, failed: 0, released: 1 });
    endpoint.accepted.length = 0;
    expect((await run()).deletes).toMatchObject({ sent: 0, released: 0 });
    expect(endpoint.accepted).toEqual([]);
  });

  it('a run whose updates failed sends no delete; the next complete run does', async () => {
    await run();
    await sql(
      database,
      "delete from members where member_id = 'm5'",
      "update members set plan = 'gold' where member_id = 'm1'",
    );
    endpoint.refuse.updates = true; // deletes would be accepted: only the run's state stops them
    const failed = await run();
    expect(failed.incomplete).toMatch(/503/);
    expect(failed.deletes?.skipped).toMatch(/the run did not finish/);
    expect(deletes()).toEqual([]);
    endpoint.refuse.updates = false;
    const next = await run();
    expect(next.incomplete).toBeUndefined();
    expect(deletes()).toEqual(['dave']);
  });

  it('a read that fails after the keys were read sends no delete', async () => {
    await run();
    await sql(database, "delete from members where member_id = 'm1'");
    // The second read of the run (the sync's own, after the keys) fails on its second page.
    let reads = 0;
    const failing = (source: WarehouseSource): WarehouseSource => ({
      ...source,
      async *pages(window) {
        const read = ++reads;
        let n = 0;
        for await (const page of source.pages(window)) {
          if (read === 2 && ++n === 2) throw new Error('connection lost mid-read');
          yield page;
        }
      },
    });
    await expect(run({ wrap: failing })).rejects.toThrow(/connection lost/);
    expect(deletes()).toEqual([]);
    await run();
    expect(deletes()).toEqual(['alice']);
  });

  it('a row missing from the first read but back in the second is not deleted', async () => {
    await run();
    // The keys' read (the run's first) does not see m2, as if it was being rewritten at that moment.
    let reads = 0;
    const flickering = (source: WarehouseSource): WarehouseSource => ({
      ...source,
      async *pages(window) {
        const read = ++reads;
        for await (const page of source.pages(window))
          yield read === 1 ? { ...page, rows: page.rows.filter((row) => row.member_id !== 'm2') } : page;
      },
    });
    const report = await run({ wrap: flickering });
    expect(deletes()).toEqual([]);
    expect(report.deletes).toMatchObject({ sent: 0, released: 0 });
    await sql(database, "delete from members where member_id = 'm2'");
    await run();
    expect(deletes()).toEqual(['bob']);
  });

  it('full refresh sends every profile again and keeps the gone keys until their delete is accepted', async () => {
    await run();
    await sql(database, "delete from members where member_id = 'm1'");
    endpoint.accepted.length = 0;
    endpoint.refuse.deletes = true;
    const refreshed = await run({ fullRefresh: true });
    expect(endpoint.accepted.filter((u) => '$set' in u).map((u) => u.$distinct_id)).toEqual([
      'bob',
      'carol',
      'carol',
      'dave',
    ]);
    expect(refreshed.deletes).toMatchObject({ sent: 1, accepted: 0, failed: 1 });
    endpoint.refuse.deletes = false;
    await run();
    expect(deletes()).toEqual(['alice']);
  });

  it("learns the IDs of keys an older version's state recorded without them", async () => {
    await run();
    // Rewrite the state as an older version wrote it: "key"<TAB>hash, no ID.
    const file = join(stateDir, 'profile-hashes.tsv');
    const legacy = readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [key, , hash] = line.split('\t');
        return `${key}\t${hash}`;
      });
    writeFileSync(file, `${legacy.join('\n')}\n`);
    await sql(database, "delete from members where member_id = 'm5'");
    // m5's ID is not known: it is not deleted (it might not be "m5"); the others learn theirs.
    const first = await run();
    expect(first.deletes).toMatchObject({ sent: 0, unknownIds: 1 });
    await sql(database, "delete from members where member_id = 'm2'");
    const second = await run();
    expect(deletes()).toEqual(['bob']);
    expect(second.deletes).toMatchObject({ sent: 1, unknownIds: 1 });
  });
});

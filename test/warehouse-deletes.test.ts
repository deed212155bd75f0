import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './support/run-cli.js';
import { startSandboxProcess, type SandboxProcess } from './support/sandbox-process.js';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.js';

const TOKEN = 'deletes-token';
const FAST_RETRIES = ['--max-retries', '1', '--backoff', '20,40,0,10'];

async function duckdb(file: string, sql: string): Promise<void> {
  const instance = await DuckDBInstance.create(file);
  const connection = await instance.connect();
  await connection.run(sql);
  connection.closeSync();
  instance.closeSync();
}

/** Users u0 … u(n−1), each with a plan; a profiles sync with delete_missing over them. */
async function usersWarehouse(dir: string, n: number, extra = ''): Promise<{ config: string; db: string }> {
  const db = join(dir, 'warehouse.duckdb');
  await duckdb(
    db,
    `create table users as select 'u' || i as user_id, case when i % 2 = 0 then 'free' else 'pro' end as plan, i as seats from range(${n}) t(i)`,
  );
  const config = join(dir, 'users.yaml');
  writeFileSync(
    config,
    'name: users\nmode: simplified\npage_size: 3\ndelete_missing: true\n' +
      'source: { type: duckdb, database: warehouse.duckdb, table: users, primary_key: user_id }\n' +
      `mapping: { type: profiles, user_id: user_id }\n${extra}`,
  );
  return { config, db };
}

describe('warehouse deletes (delete_missing) into the sandbox', () => {
  let sandbox: SandboxProcess;
  let proxy: FaultProxy;
  let dir: string;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wh-deletes-'));
    sandbox = await startSandboxProcess(['--mode', 'simplified', '--project-token', TOKEN]);
    proxy = await startFaultProxy(sandbox.url);
  });
  afterEach(async () => {
    await proxy.stop();
    await sandbox.stop();
  });
  const sync = (config: string, extra: string[] = []) =>
    runCli(['sync', '--config', config, ...FAST_RETRIES, ...extra], {
      env: { MIXPANEL_PROJECT_TOKEN: TOKEN, MIXPANEL_API_HOST: proxy.url },
    });
  const profiles = async () =>
    Object.keys(await sandbox.json<Record<string, unknown>>('/_sandbox/profiles')).sort();
  const stateFile = (name: string, file: string) => join(dir, '.idmerge', 'state', name, file);
  const deadLetters = (name: string) => {
    const file = stateFile(name, 'dead-letter.ndjson');
    return existsSync(file)
      ? readFileSync(file, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as { record: unknown; payload: unknown; reason: string })
      : [];
  };
  const ids = (n: number) => Array.from({ length: n }, (_, i) => `u${i}`).sort();

  it('a run after rows were deleted from the table deletes exactly their profiles, once', async () => {
    const { config, db } = await usersWarehouse(dir, 12);
    const first = await sync(config);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(await profiles()).toEqual(ids(12));

    await duckdb(db, "delete from users where user_id in ('u2', 'u7', 'u11')");
    const second = await sync(config);
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(second.stdout).toMatch(/deletes: +3 accepted of 3 sent/);
    expect(await profiles()).toEqual(ids(12).filter((id) => !['u2', 'u7', 'u11'].includes(id)));

    // The deleted keys left the state: the next run sends nothing at all.
    const before = (await proxy.stats()).passed;
    const third = await sync(config);
    expect(third.code, third.stdout + third.stderr).toBe(0);
    expect(third.stdout).toMatch(/deletes: +0 accepted of 0 sent/);
    expect((await proxy.stats()).passed).toBe(before);
  }, 120_000);

  it('over max_deletes the run stops before sending anything, exits 1 and says how to proceed', async () => {
    const { config, db } = await usersWarehouse(dir, 10, 'max_deletes: 2\n');
    expect((await sync(config)).code).toBe(0);
    await duckdb(
      db,
      "delete from users where user_id in ('u1', 'u2', 'u3'); update users set plan = 'gold' where user_id = 'u0'",
    );
    const passed = (await proxy.stats()).passed;
    const stopped = await sync(config);
    expect(stopped.code, stopped.stdout + stopped.stderr).toBe(1);
    expect(stopped.stderr).toMatch(
      /would delete 3 user profiles .* more than max_deletes: 2; nothing was sent/,
    );
    expect(stopped.stderr).toMatch(/--allow-deletes 3/);
    // Not the deletes, and not the changed profile either.
    expect((await proxy.stats()).passed).toBe(passed);
    expect(await profiles()).toEqual(ids(10));
    expect((await sandbox.json<Record<string, { plan: string }>>('/_sandbox/profiles')).u0?.plan).toBe(
      'free',
    );

    const allowed = await sync(config, ['--allow-deletes', '3']);
    expect(allowed.code, allowed.stdout + allowed.stderr).toBe(0);
    expect(await profiles()).toEqual(ids(10).filter((id) => !['u1', 'u2', 'u3'].includes(id)));
    expect((await sandbox.json<Record<string, { plan: string }>>('/_sandbox/profiles')).u0?.plan).toBe(
      'gold',
    );
  }, 120_000);

  it('a percentage cap counts the keys synced before', async () => {
    const { config, db } = await usersWarehouse(dir, 20, 'max_deletes: "10%"\n');
    expect((await sync(config)).code).toBe(0);
    await duckdb(db, "delete from users where user_id in ('u1', 'u2', 'u3')");
    const stopped = await sync(config);
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toMatch(
      /would delete 3 user profiles .* max_deletes: 10% of the 20 keys synced before = 2/,
    );
    await duckdb(db, "insert into users values ('u3', 'pro', 3)");
    const fits = await sync(config);
    expect(fits.code, fits.stdout + fits.stderr).toBe(0);
    expect(await profiles()).toEqual(ids(20).filter((id) => !['u1', 'u2'].includes(id)));
  }, 120_000);

  it('a refused $delete is dead-lettered with the reason and kept: the next run deletes it', async () => {
    const { config, db } = await usersWarehouse(dir, 6);
    expect((await sync(config)).code).toBe(0);
    await duckdb(db, "delete from users where user_id = 'u4'");
    await proxy.set('echo'); // every request: HTTP 400
    const refused = await sync(config);
    expect(refused.code, refused.stdout + refused.stderr).toBe(2);
    expect(refused.stdout).toMatch(/0 accepted of 1 sent \(1 not accepted: kept/);
    expect(deadLetters('users')).toEqual([
      expect.objectContaining({
        record: { user_id: 'u4' },
        payload: expect.objectContaining({ $distinct_id: 'u4', $delete: '' }),
        reason: expect.stringMatching(/400/),
      }),
    ]);
    expect(await profiles()).toContain('u4');

    await proxy.set('pass');
    const next = await sync(config);
    expect(next.code, next.stdout + next.stderr).toBe(0);
    expect(next.stdout).toMatch(/1 accepted of 1 sent/);
    expect(await profiles()).toEqual(ids(6).filter((id) => id !== 'u4'));
  }, 120_000);

  it('a $delete lost to an outage is kept; the run exits 1 and the next one deletes it', async () => {
    const { config, db } = await usersWarehouse(dir, 6);
    expect((await sync(config)).code).toBe(0);
    await duckdb(db, "delete from users where user_id = 'u1'");
    await proxy.set('503');
    const failed = await sync(config);
    expect(failed.code, failed.stdout + failed.stderr).toBe(1);
    expect(deadLetters('users')).toEqual([]);
    expect(await profiles()).toContain('u1');
    await proxy.set('pass');
    expect((await sync(config)).code).toBe(0);
    expect(await profiles()).toEqual(ids(6).filter((id) => id !== 'u1'));
  }, 120_000);

  it('a run whose updates were not all delivered sends no delete', async () => {
    const { config, db } = await usersWarehouse(dir, 6);
    expect((await sync(config)).code).toBe(0);
    await duckdb(
      db,
      "delete from users where user_id = 'u5'; update users set plan = 'gold' where user_id = 'u0'",
    );
    await proxy.set('503');
    const failed = await sync(config);
    expect(failed.code, failed.stdout + failed.stderr).toBe(1);
    expect(failed.stdout).toMatch(/deletes: +none sent: the run did not finish/);
    await proxy.set('pass');
    const next = await sync(config);
    expect(next.code, next.stdout + next.stderr).toBe(0);
    expect(await profiles()).toEqual(ids(6).filter((id) => id !== 'u5'));
  }, 120_000);

  it('a read that fails deletes nothing; once it reads again, the deletes go', async () => {
    const { config, db } = await usersWarehouse(dir, 9);
    writeFileSync(
      config,
      readFileSync(config, 'utf8').replace(
        'table: users',
        // The cast fails on the row whose seats is text: the read stops on a page after the first.
        'query: "select user_id, plan, cast(seats as integer) as seats from users"',
      ),
    );
    await duckdb(db, 'alter table users alter seats type varchar');
    expect((await sync(config)).code).toBe(0);
    await duckdb(
      db,
      "delete from users where user_id = 'u0'; update users set seats = 'many' where user_id = 'u8'",
    );
    const passed = (await proxy.stats()).passed;
    const failed = await sync(config);
    expect(failed.code, failed.stdout + failed.stderr).toBe(1);
    expect(failed.stderr).toMatch(/many/);
    expect((await proxy.stats()).passed).toBe(passed);
    expect(await profiles()).toContain('u0');

    await duckdb(db, "update users set seats = '8' where user_id = 'u8'");
    const next = await sync(config);
    expect(next.code, next.stdout + next.stderr).toBe(0);
    expect(await profiles()).toEqual(ids(9).filter((id) => id !== 'u0'));
  }, 120_000);

  it('preview counts what the next run would send: created, updated, unchanged, deleted, and the cap', async () => {
    const { config, db } = await usersWarehouse(dir, 10, 'max_deletes: 1\n');
    const fresh = await runCli(['preview', '--config', config, '--json']);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect((JSON.parse(fresh.stdout) as { counts: unknown }).counts).toMatchObject({
      created: 10,
      updated: 0,
      unchanged: 0,
      deleted: 0,
    });
    expect((await sync(config)).code).toBe(0);
    await duckdb(
      db,
      "delete from users where user_id in ('u3', 'u4'); update users set plan = 'gold' where user_id = 'u0'; insert into users values ('u10', 'free', 10)",
    );
    const passed = (await proxy.stats()).passed;
    const preview = await runCli(['preview', '--config', config]);
    expect(preview.code, preview.stderr).toBe(0);
    expect(preview.stdout).toMatch(/would send: +1 created, 1 updated, 7 unchanged, 2 deleted/);
    expect(preview.stdout).toMatch(
      /the delete cap would stop the run before it sends anything: .*would delete 2 user profiles .* more than max_deletes: 1/,
    );
    // A preview sends nothing and changes no state: the run after it sees the same.
    expect((await proxy.stats()).passed).toBe(passed);
    const limited = await runCli(['preview', '--config', config, '--limit', '4', '--json']);
    expect(
      (JSON.parse(limited.stdout) as { counts: { deleted?: number; notes: string[] } }).counts,
    ).toMatchObject({
      notes: [expect.stringMatching(/deletes are not counted: --limit/)],
    });
    expect((JSON.parse(limited.stdout) as { counts: { deleted?: number } }).counts.deleted).toBeUndefined();
    const stopped = await sync(config);
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toMatch(/would delete 2 user profiles/);
  }, 120_000);

  it('groups: a company gone from the table is deleted from /groups', async () => {
    const db = join(dir, 'warehouse.duckdb');
    await duckdb(
      db,
      "create table companies as select 'C' || i as company, 'Co ' || i as name from range(5) t(i)",
    );
    const config = join(dir, 'companies.yaml');
    writeFileSync(
      config,
      'name: companies\nmode: simplified\ndelete_missing: true\n' +
        'source: { type: duckdb, database: warehouse.duckdb, table: companies, primary_key: company }\n' +
        'mapping: { type: groups, group_key: company_id, group_id: company }\n',
    );
    expect((await sync(config)).code).toBe(0);
    const groups = async () =>
      Object.keys(await sandbox.json<Record<string, unknown>>('/_sandbox/groups')).sort();
    expect(await groups()).toEqual(['C0', 'C1', 'C2', 'C3', 'C4'].map((c) => `company_id/${c}`));
    await duckdb(db, "delete from companies where company = 'C3'");
    const second = await sync(config);
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(await groups()).toEqual(['C0', 'C1', 'C2', 'C4'].map((c) => `company_id/${c}`));
  }, 120_000);
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresOrSkip, startPostgres, type RunningPostgres } from '@idmerge/warehouse-sync/test/postgres';
import { runCli } from './support/run-cli.js';
import { startSandboxProcess } from './support/sandbox-process.js';

const TOKEN = 'pg-deletes-token';
const available = postgresOrSkip();
const describePostgres = 'skip' in available ? describe.skip : describe;

let server: RunningPostgres;

beforeAll(async () => {
  if ('skip' in available) return;
  server = await startPostgres();
  await server.sql(`
    create table users (user_id text primary key, plan text, seats integer);
    insert into users select 'u' || i, case when i % 2 = 0 then 'free' else 'pro' end, i from generate_series(0, 39) i;
    create table companies (company text primary key, name text);
    insert into companies select 'C' || i, 'Co ' || i from generate_series(0, 4) i;
  `);
});
afterAll(async () => {
  await server?.stop();
});

describePostgres(`delete_missing from PostgreSQL ${'skip' in available ? `(${available.skip})` : ''}`, () => {
  it('rows deleted from the table are deleted from the sandbox by the next run (profiles and groups)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pg-deletes-'));
    const users = join(dir, 'users.yaml');
    writeFileSync(
      users,
      [
        'name: users',
        'mode: simplified',
        'page_size: 7',
        'delete_missing: true',
        'max_deletes: "25%"',
        'source: { type: postgres, table: users, primary_key: user_id }',
        'mapping: { type: profiles, user_id: user_id }',
      ].join('\n'),
    );
    const companies = join(dir, 'companies.yaml');
    writeFileSync(
      companies,
      [
        'name: companies',
        'mode: simplified',
        'delete_missing: true',
        'source: { type: postgres, table: companies, primary_key: company }',
        'mapping: { type: groups, group_key: company_id, group_id: company }',
      ].join('\n'),
    );
    const sandbox = await startSandboxProcess(['--mode', 'simplified', '--project-token', TOKEN]);
    const env = {
      ...process.env,
      ...server.env,
      MIXPANEL_PROJECT_TOKEN: TOKEN,
      MIXPANEL_API_HOST: sandbox.url,
    };
    const sync = (config: string) => runCli(['sync', '--config', config], { env });
    const profiles = async () =>
      Object.keys(await sandbox.json<Record<string, unknown>>('/_sandbox/profiles')).sort();
    const groups = async () =>
      Object.keys(await sandbox.json<Record<string, unknown>>('/_sandbox/groups')).sort();
    const all = Array.from({ length: 40 }, (_, i) => `u${i}`).sort();
    try {
      for (const config of [users, companies]) {
        const first = await sync(config);
        expect(first.code, first.stdout + first.stderr).toBe(0);
      }
      expect(await profiles()).toEqual(all);
      expect(await groups()).toHaveLength(5);

      const gone = ['u0', 'u13', 'u14', 'u27', 'u39'];
      await server.sql(`delete from users where user_id in (${gone.map((id) => `'${id}'`).join(', ')});
        delete from companies where company = 'C2';`);
      const second = await sync(users);
      expect(second.code, second.stdout + second.stderr).toBe(0);
      expect(second.stdout).toMatch(/deletes: +5 accepted of 5 sent/);
      expect(await profiles()).toEqual(all.filter((id) => !gone.includes(id)));
      expect((await sync(companies)).code).toBe(0);
      expect(await groups()).toEqual(['C0', 'C1', 'C3', 'C4'].map((c) => `company_id/${c}`));

      // 12 of the 35 keys left is over 25%: the run stops before sending anything.
      await server.sql(`delete from users where seats between 1 and 12`);
      const stopped = await sync(users);
      expect(stopped.code).toBe(1);
      expect(stopped.stderr).toMatch(/would delete 12 user profiles .* 25% of the 35 keys synced before = 8/);
      expect(await profiles()).toHaveLength(35);
    } finally {
      await sandbox.stop();
    }
  }, 180_000);
});

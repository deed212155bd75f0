import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { loadVectorCases } from '@idmerge/shared/test/vectors';
import { runCli, syncKilledAfterCheckpoints } from './support/run-cli.js';
import { startSandboxProcess, type SandboxProcess } from './support/sandbox-process.js';

const TOKEN = 'wh-token';

/** A UUID v4 standing for a seed device, for Original projects. */
const uuidFor = (device: string) => `00000000-0000-4000-8000-${device.replace(/\D/g, '').padStart(12, '0')}`;

async function buildWarehouse(file: string, statements: string[]): Promise<void> {
  const instance = await DuckDBInstance.create(file);
  const connection = await instance.connect();
  for (const sql of statements) await connection.run(sql);
  connection.closeSync();
  instance.closeSync();
}

function definitions(dir: string, mode: string, pageSize = 2): { events: string; identities: string } {
  const common = `mode: ${mode}\npage_size: ${pageSize}\nsource:\n  type: duckdb\n  database: warehouse.duckdb\n  cursor: updated_at\n  primary_key: id\n`;
  const events = join(dir, 'events.yaml');
  writeFileSync(
    events,
    `name: events\n${common}  table: events\nmapping:\n  type: events\n  event: event_name\n  time: event_time\n  device_id: device_id\n  user_id: user_id\n  insert_id: id\n  properties: { exclude: [updated_at] }\n`,
  );
  const identities = join(dir, 'identities.yaml');
  writeFileSync(
    identities,
    `name: identities\n${common}  table: logins\nmapping:\n  type: identities\n  device_id: device_id\n  user_id: user_id\n  time: event_time\n  insert_id: id\n`,
  );
  return { events, identities };
}

function sync(config: string, sandbox: SandboxProcess, extra: string[] = []) {
  return runCli(['sync', '--config', config, ...extra], {
    env: { MIXPANEL_PROJECT_TOKEN: TOKEN, MIXPANEL_API_HOST: sandbox.url },
  });
}

describe.each(['simplified', 'original'] as const)('idmerge sync into the sandbox (%s)', (mode) => {
  const flows = loadVectorCases().filter((c) => c.mode === 'simplified');

  for (const flow of flows) {
    it(`${flow.name}: an events table and a logins table give the expected clusters`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'wh-'));
      const device = (id: unknown) =>
        typeof id === 'string' ? `'${mode === 'original' ? uuidFor(id) : id}'` : 'null';
      const rows = flow.events.map((e, i) => {
        const p = (e as { properties: Record<string, unknown> }).properties;
        const user = typeof p.$user_id === 'string' ? `'${p.$user_id}'` : 'null';
        return {
          i,
          name: (e as { event: string }).event,
          time: p.time as number,
          device: device(p.$device_id),
          user,
          link: user !== 'null' && p.$device_id !== undefined,
        };
      });
      await buildWarehouse(join(dir, 'warehouse.duckdb'), [
        'create table events (id integer, event_name varchar, event_time timestamptz, device_id varchar, user_id varchar, updated_at timestamptz)',
        'create table logins (id integer, device_id varchar, user_id varchar, event_time timestamptz, updated_at timestamptz)',
        ...rows
          .filter((r) => !r.link)
          .map(
            (r) =>
              `insert into events values (${r.i}, '${r.name}', to_timestamp(${r.time}), ${r.device}, ${r.user}, to_timestamp(${r.time}))`,
          ),
        ...rows
          .filter((r) => r.link)
          .map(
            (r) =>
              `insert into logins values (${r.i}, ${r.device}, ${r.user}, to_timestamp(${r.time}), to_timestamp(${r.time}))`,
          ),
      ]);
      const config = definitions(dir, mode);
      const sandbox = await startSandboxProcess(['--mode', mode, '--project-token', TOKEN]);
      try {
        // The preview of the logins table alone predicts its links before anything is sent.
        const preview = await runCli(['preview', '--config', config.identities, '--json']);
        expect(preview.code).toBe(0);
        expect(JSON.parse(preview.stdout)).toMatchObject({
          mode,
          rowsRead: rows.filter((r) => r.link).length,
          invalidRows: 0,
        });
        const first = await sync(config.events, sandbox);
        expect(first.stderr).toBe('');
        expect(first.code).toBe(0);
        expect((await sync(config.identities, sandbox)).code).toBe(0);
        const expected = flow.expect.clusters.map((c) => ({
          distinct_id: c.distinct_id,
          members: c.members
            .map((m) => (mode === 'original' && m.startsWith('$device:') ? uuidFor(m.slice(8)) : m))
            .sort(),
        }));
        expect(await sandbox.json('/_sandbox/clusters')).toEqual({ mode, clusters: expected });

        const before = await sandbox.json<{ accepted: number }>('/_sandbox/stats');
        // A second run reads again only the rows at the bound (the bound is inclusive), which deduplicate.
        const again = await sync(config.events, sandbox);
        expect(again.code).toBe(0);
        expect((await sandbox.json<{ accepted: number }>('/_sandbox/stats')).accepted).toBe(before.accepted);
      } finally {
        await sandbox.stop();
      }
    });
  }
});

describe('idmerge sync, the hard cases', () => {
  it('a run killed with SIGKILL mid-way resumes from its checkpoint and nothing is lost', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wh-kill-'));
    await buildWarehouse(join(dir, 'warehouse.duckdb'), [
      'create table events (id integer, event_name varchar, event_time timestamptz, device_id varchar, user_id varchar, updated_at timestamptz)',
      "insert into events select i, 'Page Viewed', to_timestamp(1763800000 + i), 'D' || (i % 97), null, to_timestamp(1763800000 + i // 3) from range(6000) t(i)",
    ]);
    const config = definitions(dir, 'simplified', 200).events;
    const sandbox = await startSandboxProcess([
      '--mode',
      'simplified',
      '--project-token',
      TOKEN,
      '--faults',
      'slow=0.2',
      '--client-timeout-ms',
      '200',
    ]);
    try {
      const stateFile = join(dir, '.idmerge', 'state', 'events', 'state.json');
      await syncKilledAfterCheckpoints(config, stateFile, {
        ...process.env,
        MIXPANEL_PROJECT_TOKEN: TOKEN,
        MIXPANEL_API_HOST: sandbox.url,
      });
      const midway = await sandbox.json<{ accepted: number }>('/_sandbox/stats');
      expect(midway.accepted).toBeLessThan(6000);
      const resumed = await sync(config, sandbox, []);
      expect(resumed.code).toBe(0);
      expect(resumed.stdout).toMatch(/resumed from a checkpoint/);
      expect((await sandbox.json<{ accepted: number }>('/_sandbox/stats')).accepted).toBe(6000);
    } finally {
      await sandbox.stop();
    }
  }, 120_000);
});

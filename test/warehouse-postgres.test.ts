import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresOrSkip, startPostgres, type RunningPostgres } from '@idmerge/warehouse-sync/test/postgres';
import { runCli, syncKilledAfterCheckpoints } from './support/run-cli.js';
import { startSandboxProcess } from './support/sandbox-process.js';

const TOKEN = 'pg-e2e-token';
const available = postgresOrSkip();
const describePostgres = 'skip' in available ? describe.skip : describe;

let server: RunningPostgres;

beforeAll(async () => {
  if ('skip' in available) return;
  server = await startPostgres();
  await server.sql(`
    create table events (id integer primary key, event_name text, event_time timestamptz, device_id text,
      updated_at timestamptz);
    insert into events select i, 'Page Viewed', to_timestamp(1763800000 + i), 'D' || (i % 97),
      to_timestamp(1763800000 + i / 3) from generate_series(0, 5999) i;
  `);
});
afterAll(async () => {
  await server?.stop();
});

describePostgres(`idmerge sync from PostgreSQL ${'skip' in available ? `(${available.skip})` : ''}`, () => {
  it('a run killed with SIGKILL mid-way resumes from its checkpoint; nothing is lost; new rows come next', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pg-kill-'));
    const config = join(dir, 'events.yaml');
    // Connection settings from libpq's variables; only the table and the mapping are written here.
    writeFileSync(
      config,
      [
        'name: events',
        'mode: simplified',
        'page_size: 200',
        'source: { type: postgres, table: events, cursor: updated_at, primary_key: id }',
        'mapping: { type: events, event: event_name, time: event_time, device_id: device_id, insert_id: id }',
      ].join('\n'),
    );
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
    const env = {
      ...process.env,
      ...server.env,
      MIXPANEL_PROJECT_TOKEN: TOKEN,
      MIXPANEL_API_HOST: sandbox.url,
    };
    try {
      const stateFile = join(dir, '.idmerge', 'state', 'events', 'state.json');
      await syncKilledAfterCheckpoints(config, stateFile, env);
      const midway = await sandbox.json<{ accepted: number }>('/_sandbox/stats');
      expect(midway.accepted).toBeLessThan(6000);
      // The killed run's transaction is gone with its connection; the server serves the next one.
      const resumed = await runCli(['sync', '--config', config], { env });
      expect(resumed.stderr).toBe('');
      expect(resumed.code).toBe(0);
      expect(resumed.stdout).toMatch(/resumed from a checkpoint/);
      expect((await sandbox.json<{ accepted: number }>('/_sandbox/stats')).accepted).toBe(6000);

      await server.sql(`
        insert into events select i, 'Page Viewed', to_timestamp(1763900000 + i), 'D' || (i % 97),
          to_timestamp(1763900000 + i) from generate_series(6000, 6049) i;
      `);
      const next = await runCli(['sync', '--config', config], { env });
      expect(next.code).toBe(0);
      // 50 new rows, and the 3 rows sharing the last bound, read again (inclusive lower bound) and deduplicated.
      expect(next.stdout).toMatch(/rows read:\s+53 /);
      expect((await sandbox.json<{ accepted: number }>('/_sandbox/stats')).accepted).toBe(6050);
    } finally {
      await sandbox.stop();
    }
  }, 120_000);
});

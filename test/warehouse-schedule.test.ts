import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { IDMERGE, REPO_ROOT, runCli } from './support/run-cli.js';
import { startSandboxProcess } from './support/sandbox-process.js';

const TOKEN = 'schedule-token';

interface LogLine {
  level: number;
  msg: string;
  sync?: string;
  rowsRead?: number;
  delivered?: number;
  error?: string;
  nextRun?: string | null;
  deletes?: { sent: number; accepted: number; failed: number };
}

const parseLog = (stdout: string): LogLine[] =>
  stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);

async function duckdb(dir: string, ...statements: string[]): Promise<void> {
  const instance = await DuckDBInstance.create(join(dir, 'warehouse.duckdb'));
  const connection = await instance.connect();
  for (const sql of statements) await connection.run(sql);
  connection.closeSync();
  instance.closeSync();
}

const warehouse = (dir: string): Promise<void> =>
  duckdb(
    dir,
    'create table events (id integer, event_name varchar, event_time timestamptz, device_id varchar, updated_at timestamptz)',
    "insert into events select i, 'Opened', to_timestamp(1763800000 + i), 'D' || (i % 7), to_timestamp(1763800000 + i) from range(50) t(i)",
  );

function definition(dir: string, name: string, table: string, schedule: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `name: ${name}\nmode: simplified\nschedule: "${schedule}"\nsource:\n  type: duckdb\n  database: warehouse.duckdb\n  table: ${table}\n  cursor: updated_at\n  primary_key: id\n` +
      'mapping:\n  type: events\n  event: event_name\n  time: event_time\n  device_id: device_id\n  insert_id: id\n',
  );
  return file;
}

describe('idmerge schedule', () => {
  it('runs each definition on its schedule, logs every report, and survives a failing one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'schedule-'));
    await warehouse(dir);
    const good = definition(dir, 'events', 'events', '* * * * * *');
    const broken = definition(dir, 'broken', 'no_such_table', '* * * * * *');
    const sandbox = await startSandboxProcess(['--mode', 'simplified', '--project-token', TOKEN]);
    try {
      const result = await runCli(['schedule', '--config', good, broken, '--run-now', '--max-runs', '3'], {
        env: { MIXPANEL_PROJECT_TOKEN: TOKEN, MIXPANEL_API_HOST: sandbox.url },
      });
      // --max-runs exits 1 when a run failed.
      expect(result.code, result.stderr).toBe(1);
      const log = parseLog(result.stdout);
      const finished = log.filter((l) => l.sync === 'events' && l.msg === 'run finished');
      // Later runs read again only the row at the (inclusive) bound; it deduplicates (50 accepted below).
      expect(finished.map((l) => l.rowsRead)).toEqual([50, 1, 1]);
      expect(finished[0]).toMatchObject({ delivered: 50, nextRun: expect.any(String) });
      const failed = log.filter((l) => l.sync === 'broken' && l.msg.startsWith('run failed'));
      expect(failed).toHaveLength(3);
      expect(failed[0]?.level).toBe(50);
      expect(failed[0]?.error).toMatch(/no_such_table/);
      expect((await sandbox.json<{ accepted: number }>('/_sandbox/stats')).accepted).toBe(50);
      expect(result.stdout).not.toContain(TOKEN);
    } finally {
      await sandbox.stop();
    }
  }, 60_000);

  it('logs what delete_missing did: a scheduled run after rows left the table reports the deletes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'schedule-deletes-'));
    await duckdb(dir, "create table users as select 'u' || i as user_id, i as seats from range(8) t(i)");
    const config = join(dir, 'users.yaml');
    writeFileSync(
      config,
      'name: users\nmode: simplified\nschedule: "0 0 1 1 *"\ndelete_missing: true\n' +
        'source: { type: duckdb, database: warehouse.duckdb, table: users, primary_key: user_id }\n' +
        'mapping: { type: profiles, user_id: user_id }\n',
    );
    const sandbox = await startSandboxProcess(['--mode', 'simplified', '--project-token', TOKEN]);
    try {
      const env = { MIXPANEL_PROJECT_TOKEN: TOKEN, MIXPANEL_API_HOST: sandbox.url };
      const first = await runCli(['sync', '--config', config], { env });
      expect(first.code, first.stdout + first.stderr).toBe(0);
      await duckdb(dir, "delete from users where user_id in ('u1', 'u5')");
      const result = await runCli(['schedule', '--config', config, '--run-now', '--max-runs', '1'], { env });
      expect(result.code, result.stdout + result.stderr).toBe(0);
      const finished = parseLog(result.stdout).find((l) => l.sync === 'users' && l.msg === 'run finished');
      expect(finished?.deletes).toMatchObject({ sent: 2, accepted: 2, failed: 0 });
      expect(Object.keys(await sandbox.json<Record<string, unknown>>('/_sandbox/profiles')).sort()).toEqual([
        'u0',
        'u2',
        'u3',
        'u4',
        'u6',
        'u7',
      ]);
    } finally {
      await sandbox.stop();
    }
  }, 60_000);

  it('refuses to start when a definition has no schedule or a bad one, naming the file and key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'schedule-bad-'));
    const bad = definition(dir, 'bad', 'events', 'every tuesday');
    const none = join(dir, 'none.yaml');
    writeFileSync(
      none,
      'name: none\nmode: simplified\nsource: { type: duckdb, table: events, primary_key: id }\n' +
        'mapping: { type: events, event: e, time: t, device_id: d }\n',
    );
    const result = await runCli(['schedule', '--config', bad, none]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${bad}: schedule: "every tuesday" is not a cron expression`);
    expect(result.stderr).toContain(`${none}: schedule: missing`);
  });

  it('stops on SIGTERM after the run in progress, and exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'schedule-stop-'));
    await warehouse(dir);
    const good = definition(dir, 'events', 'events', '0 0 1 1 *');
    const sandbox = await startSandboxProcess(['--mode', 'simplified', '--project-token', TOKEN]);
    try {
      const child = spawn(process.execPath, [IDMERGE, 'schedule', '--config', good, '--run-now'], {
        cwd: REPO_ROOT,
        env: { ...process.env, MIXPANEL_PROJECT_TOKEN: TOKEN, MIXPANEL_API_HOST: sandbox.url },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let signalled = false;
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        if (!signalled && stdout.includes('"run finished"')) signalled = child.kill('SIGTERM');
      });
      const code = await new Promise((resolve) => child.on('exit', resolve));
      expect(code).toBe(0);
      const log = parseLog(stdout);
      expect(log.find((l) => l.msg === 'scheduled')?.nextRun).toMatch(/-01-01T/);
      expect(log.at(-1)?.msg).toMatch(/^stopping/);
    } finally {
      await sandbox.stop();
    }
  }, 60_000);
});

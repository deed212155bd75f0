import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './support/run-cli.js';
import { startSandboxProcess, type SandboxProcess } from './support/sandbox-process.js';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.js';

const TOKEN = 'faults-token';
const FAST_RETRIES = ['--max-retries', '1', '--backoff', '20,40,0,10'];

interface Stats {
  accepted: number;
  received: number;
  duplicates: number;
}

/** Rows `from` … `to − 1`: id, event, a time and a cursor one second apart. */
const rowsSql = (from: number, to: number) =>
  `select i as id, 'Opened' as event_name, to_timestamp(1763800000 + i) as event_time, 'D' || (i % 97) as device_id, to_timestamp(1763800000 + i) as updated_at from range(${from}, ${to}) t(i)`;

/**
 * A warehouse the sync reads, as a DuckDB file or as a CSV file read by DuckDB in memory; `add`
 * appends rows (new ones with later cursors).
 */
interface Warehouse {
  config: string;
  add(from: number, to: number): Promise<void>;
}

async function duckdb(file: string, sql: string): Promise<void> {
  const instance = await DuckDBInstance.create(file);
  const connection = await instance.connect();
  await connection.run(sql);
  connection.closeSync();
  instance.closeSync();
}

async function warehouse(kind: 'file' | 'csv', dir: string, pageSize: number): Promise<Warehouse> {
  const mapping =
    'mapping:\n  type: events\n  event: event_name\n  time: event_time\n  device_id: device_id\n  insert_id: id\n';
  const config = join(dir, 'events.yaml');
  const head = `name: events\nmode: simplified\npage_size: ${pageSize}\n`;
  if (kind === 'file') {
    const database = join(dir, 'warehouse.duckdb');
    await duckdb(database, `create table events as ${rowsSql(0, 0)}`);
    writeFileSync(
      config,
      `${head}source:\n  type: duckdb\n  database: warehouse.duckdb\n  table: events\n  cursor: updated_at\n  primary_key: id\n${mapping}`,
    );
    return { config, add: (from, to) => duckdb(database, `insert into events ${rowsSql(from, to)}`) };
  }
  const csv = join(dir, 'events.csv');
  writeFileSync(
    config,
    `${head}source:\n  type: duckdb\n  database: ':memory:'\n  query: select * from read_csv('${csv}')\n  cursor: updated_at\n  primary_key: id\n${mapping}`,
  );
  let rows: string[] = [];
  return {
    config,
    async add(from, to) {
      for (let i = from; i < to; i++)
        rows.push(
          `${i},Opened,${new Date((1763800000 + i) * 1000).toISOString()},D${i % 97},${new Date((1763800000 + i) * 1000).toISOString()}`,
        );
      writeFileSync(csv, `id,event_name,event_time,device_id,updated_at\n${rows.join('\n')}\n`);
      rows = [...rows];
    },
  };
}

describe.each(['file', 'csv'] as const)('sync under delivery faults (DuckDB %s)', (kind) => {
  let sandbox: SandboxProcess;
  let proxy: FaultProxy;
  let dir: string;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), `wh-faults-${kind}-`));
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
  const stats = () => sandbox.json<Stats>('/_sandbox/stats');
  const state = () =>
    JSON.parse(readFileSync(join(dir, '.idmerge', 'state', 'events', 'state.json'), 'utf8')) as {
      bound?: string;
      inProgress?: { position?: { key: string } };
    };
  const deadLettered = () => {
    const file = join(dir, '.idmerge', 'state', 'events', 'dead-letter.ndjson');
    return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0;
  };

  it('a run refused with 401 keeps its bound and exits 1; the next run sends every row with no flag', async () => {
    const wh = await warehouse(kind, dir, 100);
    await wh.add(0, 1000);
    expect((await sync(wh.config)).code).toBe(0);
    const bound = state().bound;
    await wh.add(1000, 2001);
    await proxy.set('401');
    const refused = await sync(wh.config);
    expect(refused.code, refused.stdout + refused.stderr).toBe(1);
    expect(refused.stdout).toMatch(/refused the credentials \(HTTP 401\)/);
    expect(refused.stdout).toMatch(/the next run sends them/);
    expect(state().bound).toBe(bound);
    // Nothing for a person to replay: the rows are sent again by the next run.
    expect(deadLettered()).toBe(0);
    await proxy.set('pass');
    const next = await sync(wh.config);
    expect(next.code, next.stdout + next.stderr).toBe(0);
    expect((await stats()).accepted).toBe(2001);
    expect(deadLettered()).toBe(0);
  }, 120_000);

  it.each(['503', 'lost'] as const)(
    'an outage (%s) outlasting the retries mid-run stops at the last settled page; the next run sends the rest',
    async (fault) => {
      const wh = await warehouse(kind, dir, 500);
      await wh.add(0, 12_000);
      // Two requests of 2000 events get through, then every request fails.
      await proxy.set(fault, 2);
      const failed = await sync(wh.config);
      expect(failed.code, failed.stdout + failed.stderr).toBe(1);
      expect(failed.stdout).toMatch(/gave up after 1 retries/);
      const stopped = state();
      expect(stopped.bound).toBeUndefined();
      const position = Number(stopped.inProgress?.position?.key ?? -1);
      // The checkpoint never passes a row that was not delivered: everything up to it was.
      expect(position).toBeLessThan(4000);
      const delivered = await stats();
      expect(delivered.accepted).toBeGreaterThanOrEqual(position + 1);
      expect(deadLettered()).toBe(0);

      await proxy.set('pass');
      const next = await sync(wh.config);
      expect(next.code, next.stdout + next.stderr).toBe(0);
      expect(next.stdout).toMatch(/resumed from a checkpoint/);
      expect((await stats()).accepted).toBe(12_000);
      expect(state().bound).toBeDefined();
    },
    120_000,
  );
});

describe('schedule with a failing run', () => {
  it('logs a run refused with 401 at error level and --max-runs exits 1; the next runs deliver everything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wh-faults-schedule-'));
    const wh = await warehouse('file', dir, 100);
    await wh.add(0, 300);
    writeFileSync(wh.config, `${readFileSync(wh.config, 'utf8')}schedule: '* * * * * *'\n`);
    const sandbox = await startSandboxProcess(['--mode', 'simplified', '--project-token', TOKEN]);
    const proxy = await startFaultProxy(sandbox.url);
    try {
      const env = { MIXPANEL_PROJECT_TOKEN: TOKEN, MIXPANEL_API_HOST: proxy.url };
      await proxy.set('401');
      const refused = await runCli(['schedule', '--config', wh.config, '--run-now', '--max-runs', '1'], {
        env,
      });
      expect(refused.code).toBe(1);
      const log = refused.stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { level: number; msg: string; error?: string });
      const failed = log.find((l) => l.msg.startsWith('run failed'));
      expect(failed).toMatchObject({ level: 50, error: expect.stringContaining('HTTP 401') });
      expect(refused.stdout).not.toContain(TOKEN);
      await proxy.set('pass');
      const next = await runCli(['schedule', '--config', wh.config, '--run-now', '--max-runs', '1'], { env });
      expect(next.code, next.stdout).toBe(0);
      expect((await sandbox.json<Stats>('/_sandbox/stats')).accepted).toBe(300);
    } finally {
      await proxy.stop();
      await sandbox.stop();
    }
  }, 120_000);
});

import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/run-cli.js';
import { startSandboxProcess, type SandboxProcess } from './support/sandbox-process.js';

const TOKEN = 'poison-token';
let sandbox: SandboxProcess;
beforeAll(async () => {
  sandbox = await startSandboxProcess(['--mode', 'simplified', '--project-token', TOKEN]);
});
afterAll(async () => {
  await sandbox.stop();
});

const accepted = async () => (await sandbox.json<{ accepted: number }>('/_sandbox/stats')).accepted;
const sync = (config: string) =>
  runCli(['sync', '--config', config], {
    env: { MIXPANEL_PROJECT_TOKEN: TOKEN, MIXPANEL_API_HOST: sandbox.url },
  });

const MAPPING =
  'mapping:\n  type: events\n  event: event_name\n  time: event_time\n  device_id: device_id\n  insert_id: id\n';

/** 1,000 rows whose times are epoch seconds; row 500's is 1e20 (a poison value). */
async function poisonWarehouse(kind: 'file' | 'csv', dir: string, run: string): Promise<string> {
  const config = join(dir, 'events.yaml');
  const head = `name: events\nmode: simplified\npage_size: 100\nsource:\n  type: duckdb\n`;
  const time = (i: number) => (i === 500 ? 1e20 : 1763800000 + i);
  if (kind === 'file') {
    const instance = await DuckDBInstance.create(join(dir, 'warehouse.duckdb'));
    const connection = await instance.connect();
    await connection.run(
      `create table events as select '${run}' || i as id, 'Opened' as event_name, case when i = 500 then 1e20 else 1763800000 + i end::double as event_time, 'D' || (i % 31) as device_id, to_timestamp(1763800000 + i) as updated_at from range(1000) t(i)`,
    );
    connection.closeSync();
    instance.closeSync();
    writeFileSync(
      config,
      `${head}  database: warehouse.duckdb\n  table: events\n  cursor: updated_at\n  primary_key: id\n${MAPPING}`,
    );
  } else {
    const csv = join(dir, 'events.csv');
    const rows = Array.from(
      { length: 1000 },
      (_, i) => `${run}${i},Opened,${time(i)},D${i % 31},${new Date((1763800000 + i) * 1000).toISOString()}`,
    );
    writeFileSync(csv, `id,event_name,event_time,device_id,updated_at\n${rows.join('\n')}\n`);
    writeFileSync(
      config,
      `${head}  database: ':memory:'\n  query: select * from read_csv('${csv}')\n  cursor: updated_at\n  primary_key: id\n${MAPPING}`,
    );
  }
  return config;
}

describe.each(['file', 'csv'] as const)('sync with a poison value (DuckDB %s)', (kind) => {
  it('time 1e20 in one row: that row is dead-lettered with its reason, every other row is delivered, exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), `wh-poison-${kind}-`));
    const config = await poisonWarehouse(kind, dir, `p${kind}`);
    const before = await accepted();
    const result = await sync(config);
    expect(result.code, result.stdout + result.stderr).toBe(2);
    expect((await accepted()) - before).toBe(999);
    const stateDir = join(dir, '.idmerge', 'state', 'events');
    const dead = readFileSync(join(stateDir, 'dead-letter.ndjson'), 'utf8').trim().split('\n');
    expect(dead).toHaveLength(1);
    expect(JSON.parse(dead[0] as string)).toMatchObject({
      record: { id: `p${kind}500` },
      stage: 'validation',
    });
    // The run finished: the bound moved, and a second run sends nothing again.
    const again = await sync(config);
    // Only the bound's own row again (the lower bound is inclusive; its $insert_id deduplicates it).
    expect(again.stdout).toMatch(/rows read:\s+1 /);
    for (const file of ['state.json', 'dead-letter.ndjson'])
      expect(statSync(join(stateDir, file)).mode & 0o777).toBe(0o600);
  }, 60_000);
});

describe('a corrupted state file', () => {
  it('stops the run with an error naming the file and saying what to do', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wh-corrupt-'));
    const config = await poisonWarehouse('file', dir, 'corrupt');
    const stateFile = join(dir, '.idmerge', 'state', 'events', 'state.json');
    expect((await sync(config)).code).toBe(2);
    writeFileSync(stateFile, '{"bound": "2025-11-22 10:0'); // cut short, as by a full disk
    const result = await sync(config);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${stateFile} is not a valid sync state (not JSON`);
    expect(result.stderr).toMatch(/Restore it from a backup, or move it away/);
    expect(existsSync(stateFile)).toBe(true);
  }, 60_000);
});

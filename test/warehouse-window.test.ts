import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/run-cli.js';
import { startSandboxProcess, type SandboxProcess } from './support/sandbox-process.js';

const TOKEN = 'window-token';
let sandbox: SandboxProcess;
beforeAll(async () => {
  sandbox = await startSandboxProcess(['--mode', 'simplified', '--project-token', TOKEN]);
});
afterAll(async () => {
  await sandbox.stop();
});

const accepted = async () => (await sandbox.json<{ accepted: number }>('/_sandbox/stats')).accepted;
const idmerge = (...args: string[]) =>
  runCli(args, { env: { MIXPANEL_PROJECT_TOKEN: TOKEN, MIXPANEL_API_HOST: sandbox.url } });

/** 1,000 rows, 100 of them with a NULL cursor, and ids w0–w9 twice (same key, same cursor). */
async function warehouse(nullCursor?: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'wh-window-'));
  const instance = await DuckDBInstance.create(join(dir, 'warehouse.duckdb'));
  const connection = await instance.connect();
  await connection.run(
    `create table events as
     select 'w' || i as id, 'Opened' as event_name, 1763800000 + i as event_time, 'D' || i as device_id,
       case when i % 10 = 5 then null else to_timestamp(1763800000 + i) end as updated_at
     from range(1000) t(i)
     union all select 'w' || i, 'Opened', 1763800000 + i, 'again-' || i, to_timestamp(1763800000 + i) from range(10) t(i)`,
  );
  connection.closeSync();
  instance.closeSync();
  const config = join(dir, 'events.yaml');
  writeFileSync(
    config,
    [
      'name: events',
      'mode: simplified',
      'page_size: 100',
      'source:',
      '  type: duckdb',
      '  database: warehouse.duckdb',
      '  table: events',
      '  cursor: updated_at',
      '  primary_key: id',
      ...(nullCursor ? [`  null_cursor: ${nullCursor}`] : []),
      'mapping: { type: events, event: event_name, time: event_time, device_id: device_id, insert_id: [id, device_id] }',
    ].join('\n'),
  );
  return config;
}

describe('idmerge sync and preview report the window’s edges', () => {
  it('NULL cursors: reported and dead-lettered with the reason (exit 2); duplicate keys counted', async () => {
    const config = await warehouse();
    const before = await accepted();
    const result = await idmerge('sync', '--config', config);
    expect(result.code, result.stdout + result.stderr).toBe(2);
    expect(result.stdout).toMatch(/rows read:\s+1010/);
    expect(result.stdout).toMatch(
      /NULL cursor:\s+100 rows \(dead-lettered: give them a cursor value, or set null_cursor: deliver\)/,
    );
    expect(result.stdout).toMatch(/duplicate keys:\s+10 rows share cursor and id with another row/);
    expect((await accepted()) - before).toBe(910);
    const dead = readFileSync(join(config, '..', '.idmerge', 'state', 'events', 'dead-letter.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { reason: string });
    expect(dead).toHaveLength(100);
    expect(dead[0]?.reason).toMatch(/updated_at: the cursor is NULL/);
    const preview = await idmerge('preview', '--config', config);
    expect(preview.code, preview.stderr).toBe(0);
    expect(preview.stdout).toMatch(/100 × rows whose cursor updated_at is NULL/);
    expect(preview.stdout).toMatch(/10 × rows sharing their primary key/);
  }, 90_000);

  it('null_cursor: deliver sends them, exit 0', async () => {
    const config = await warehouse('deliver');
    const before = await accepted();
    const result = await idmerge('sync', '--config', config);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/NULL cursor:\s+100 rows \(delivered/);
    expect((await accepted()) - before).toBe(1010);
  }, 90_000);
});

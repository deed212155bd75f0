import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { IDMERGE, REPO_ROOT, runCli } from './support/run-cli.js';
import { startFaultProxy } from './support/fault-proxy.js';
import { startSandboxProcess } from './support/sandbox-process.js';

const TOKEN = 'kills-token';
const ROWS = 200_000;
const PAGE_SIZE = 10_000;
const KILLS = 10;

interface SinkStats {
  received: number;
  accepted: number;
  duplicates: number;
}

describe('a sync killed again and again', () => {
  it(`resends at most about two pages per kill -9 (${KILLS} kills of a ${ROWS}-row sync, counted at the sink)`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wh-kills-'));
    const instance = await DuckDBInstance.create(join(dir, 'warehouse.duckdb'));
    const connection = await instance.connect();
    await connection.run(
      `create table events as select i as id, 'Opened' as event_name, to_timestamp(1763800000 + i // 10) as event_time, 'D' || (i % 997) as device_id, to_timestamp(1763800000 + i // 10) as updated_at from range(${ROWS}) t(i)`,
    );
    connection.closeSync();
    instance.closeSync();
    const config = join(dir, 'events.yaml');
    writeFileSync(
      config,
      `name: events\nmode: simplified\npage_size: ${PAGE_SIZE}\nsource:\n  type: duckdb\n  database: warehouse.duckdb\n  table: events\n  cursor: updated_at\n  primary_key: id\n` +
        'mapping:\n  type: events\n  event: event_name\n  time: event_time\n  device_id: device_id\n  insert_id: id\n',
    );
    const sink = await startSandboxProcess(['--mode', 'simplified', '--project-token', TOKEN, '--sink']);
    // A server that takes its time, so that every kill finds requests in flight.
    const proxy = await startFaultProxy(sink.url);
    await proxy.set('pass', 0, 150);
    const env = { ...process.env, MIXPANEL_PROJECT_TOKEN: TOKEN, MIXPANEL_API_HOST: proxy.url };
    const stats = () => sink.json<SinkStats>('/_sandbox/stats');
    try {
      let kills = 0;
      while (kills < KILLS) {
        const start = (await stats()).accepted;
        if (start >= ROWS - 3 * PAGE_SIZE) break; // too little left to kill it mid-way
        const child = spawn(process.execPath, [IDMERGE, 'sync', '--config', config], {
          cwd: REPO_ROOT,
          env,
          stdio: 'ignore',
        });
        const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
        let done = false;
        void exited.then(() => (done = true));
        // Killed once it delivered a few pages' worth more since it started.
        while (!done && (await stats()).accepted < start + 1.5 * PAGE_SIZE)
          await new Promise((resolve) => setTimeout(resolve, 10));
        if (done) break;
        child.kill('SIGKILL');
        await exited;
        kills++;
      }
      const last = await runCli(['sync', '--config', config], { env });
      expect(last.code, last.stdout + last.stderr).toBe(0);
      const final = await stats();
      expect(final.accepted).toBe(ROWS);
      expect(kills).toBeGreaterThanOrEqual(5);
      const resent = final.received - ROWS;
      console.log(`${kills} kills: ${resent} rows sent again (${Math.round(resent / kills)} per kill)`);
      expect(resent).toBeLessThanOrEqual(kills * 2 * PAGE_SIZE);
    } finally {
      await proxy.stop();
      await sink.stop();
    }
  }, 300_000);
});

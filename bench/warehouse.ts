/**
 * `idmerge sync` throughput: rows from a DuckDB file (or a local PostgreSQL server, `--source
 * postgres`) through the whole sync (keyset pages, mapping, validation, sender) to a sandbox in
 * --sink mode on loopback. Rows/s and peak RSS of the sync process, at each size given, to show
 * memory does not grow with the row count.
 *
 *   pnpm bench:warehouse [--source duckdb|postgres] [--rows 1000000,10000000] [--page-size 10000]
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { postgresWarehouse } from './lib/postgres-warehouse.js';
import { cpuSeconds, REPO_ROOT, startSandbox, timeIdmerge } from './lib/processes.js';
import { appendSection } from './lib/report.js';

const { values } = parseArgs({
  options: {
    source: { type: 'string', default: 'duckdb' },
    rows: { type: 'string', default: '1000000,10000000' },
    'page-size': { type: 'string', default: '10000' },
    'no-record': { type: 'boolean', default: false },
    /** A folder for V8 CPU profiles of the sync process (one per thread: the run's and the reader's). */
    profile: { type: 'string' },
  },
});
const sizes = values.rows.split(',').map((text) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--rows: "${text}" is not a whole number ≥ 1`);
  return n;
});
const pageSize = Number(values['page-size']);
const sourceType = values.source;
if (sourceType !== 'duckdb' && sourceType !== 'postgres')
  throw new Error(`--source: "${sourceType}" is not duckdb or postgres`);
const dataDir = join(REPO_ROOT, 'bench', '.data');
mkdirSync(dataDir, { recursive: true });

/**
 * A realistic events table: 40% anonymous-only, 10% with both IDs (the moment of login), 50%
 * identified; ten properties of mixed types; the cursor grows with the row number, with ties.
 */
async function buildWarehouse(file: string, rows: number): Promise<void> {
  if (existsSync(file)) return;
  console.log(`building ${file} (${rows.toLocaleString('en')} rows)`);
  const instance = await DuckDBInstance.create(`${file}.tmp`);
  const connection = await instance.connect();
  await connection.run(`
    create table events as
    select
      i as id,
      ['Page Viewed', 'Signed Up', 'Added to Cart', 'Purchased', 'Searched'][1 + i % 5] as event_name,
      timestamptz '2025-11-01 00:00:00+00' + to_seconds(i // 4) as event_time,
      case when i % 10 < 9 then 'dev-' || (i // 7) % 2000003 end as device_id,
      case when i % 10 >= 4 then 'user-' || (i // 11) % 400009 end as user_id,
      timestamptz '2025-11-01 00:00:00+00' + to_seconds(i // 4) as updated_at,
      ['/', '/pricing', '/docs', '/blog', '/signup'][1 + i % 5] as page,
      ['google', 'direct', 'newsletter', 'partner'][1 + i % 4] as utm_source,
      ['web', 'ios', 'android'][1 + i % 3] as platform,
      (i % 1000) / 10.0 as price,
      i % 7 = 0 as is_trial,
      'campaign-' || i % 97 as campaign,
      'DE' as country,
      (i * 7919) % 100000 as session_ms,
      'v' || i % 13 as app_version,
      'note that stays in the warehouse' as internal_note
    from range(${rows}) t(i)`);
  connection.closeSync();
  instance.closeSync();
  rmSync(file, { force: true });
  const { renameSync } = await import('node:fs');
  renameSync(`${file}.tmp`, file);
}

/** CPU seconds used between two readings of cpuSeconds, when both were possible. */
function since(before: number | undefined, after: number | undefined): number | undefined {
  return before === undefined || after === undefined ? undefined : after - before;
}

const sink = await startSandbox(['--mode', 'simplified', '--sink']);
const lines: string[] = [];
try {
  for (const rows of sizes) {
    const database = join(dataDir, `warehouse-${rows}.duckdb`);
    // PostgreSQL: a throwaway server per size, stopped after its run.
    const postgres = sourceType === 'postgres' ? await postgresWarehouse(rows) : undefined;
    if (postgres === undefined) await buildWarehouse(database, rows);
    const sourceLines =
      postgres === undefined
        ? ['  type: duckdb', `  database: ${database}`, '  memory_limit: 40MB']
        : ['  type: postgres', '  ssl: disable'];
    const runDir = join(dataDir, `sync-${rows}`);
    rmSync(runDir, { recursive: true, force: true });
    mkdirSync(runDir, { recursive: true });
    const config = join(runDir, 'events.yaml');
    writeFileSync(
      config,
      [
        'name: bench-events',
        'mode: simplified',
        `page_size: ${pageSize}`,
        'source:',
        ...sourceLines,
        '  table: events',
        '  cursor: updated_at',
        '  primary_key: id',
        'mapping:',
        '  type: events',
        '  event: event_name',
        '  time: event_time',
        '  device_id: device_id',
        '  user_id: user_id',
        '  insert_id: id',
        '  properties: { exclude: [internal_note, updated_at] }',
        '',
      ].join('\n'),
    );
    await fetch(`${sink.url}/_sandbox/reset`, { method: 'POST' });
    const sinkCpu = cpuSeconds(sink.pid);
    const serverCpu = cpuSeconds(postgres?.child.pid);
    const profile = values.profile === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', values.profile];
    const run = await timeIdmerge(
      ['sync', '--config', config],
      { MIXPANEL_PROJECT_TOKEN: 'bench-token', MIXPANEL_API_HOST: sink.url, ...postgres?.env },
      profile,
    )
      .then(async (result) => {
        // The server's backend is reaped (its CPU time counted to the server) once the sync is gone.
        await new Promise((resolve) => setTimeout(resolve, 300));
        return { ...result, serverCpu: since(serverCpu, cpuSeconds(postgres?.child.pid)) };
      })
      .finally(() => postgres?.stop());
    if (run.code !== 0) throw new Error(`idmerge sync exited with ${run.code}:\n${run.stdout}`);
    const stats = (await (await fetch(`${sink.url}/_sandbox/stats`)).json()) as {
      accepted: number;
      duplicates: number;
    };
    const delivered = Number(/delivered:\s+(\d+)/.exec(run.stdout)?.[1] ?? NaN);
    const rps = Math.round(rows / run.seconds);
    const perRow = (seconds: number | undefined) =>
      seconds === undefined ? 'n/a' : ((seconds * 1e6) / rows).toFixed(1);
    const cpu = [run.cpuSeconds, since(sinkCpu, cpuSeconds(sink.pid))];
    if (postgres !== undefined) cpu.push(run.serverCpu);
    lines.push(
      `| ${rows.toLocaleString('en')} | ${delivered.toLocaleString('en')} | ${stats.accepted.toLocaleString('en')} | ${run.seconds.toFixed(1)} | ${rps.toLocaleString('en')} | ${Math.round(run.peakRssMb)} MB | ${cpu.map(perRow).join(' | ')} |`,
    );
    console.log(lines.at(-1));
    if (stats.accepted !== rows)
      throw new Error(`the sink holds ${stats.accepted} unique events, expected ${rows}`);
  }
} finally {
  sink.stop();
}

const reading =
  sourceType === 'postgres'
    ? 'reads a local PostgreSQL server (the same 16 columns, an index on (updated_at, id); only the 14 columns the mapping uses are fetched) through one statement ordered by (updated_at, id) and a server-side cursor, each row as one record text, 1,000 rows per fetch, the next one asked for while the current one is mapped'
    : 'reads a DuckDB file (16 columns; 40% anonymous, 10% login rows, 50% identified; only the 14 columns the mapping uses are fetched) in slices of 50,000 rows, each one query ordered by (updated_at, id), with DuckDB capped at 40 MB (`memory_limit: 40MB`)';
const serverColumn = sourceType === 'postgres' ? ' PostgreSQL server CPU µs/row |' : '';
const body = `| rows | delivered | unique at the sink | wall seconds (incl. start-up) | rows/s | peak RSS | sync CPU µs/row | sink CPU µs/row |${serverColumn}
| --- | --- | --- | --- | --- | --- | --- | --- |${serverColumn === '' ? '' : ' --- |'}
${lines.join('\n')}

Targets: ≥ 100,000 rows/s, peak RSS ≤ 300 MB and not growing with the row count. One compiled \`idmerge sync\` process: a worker thread ${reading}, and maps, validates (strict rules) and serializes every row; the main thread delivers to a sandbox in --sink mode (batches of 2000, gzip, 10 concurrent requests), checkpointing every ${pageSize.toLocaleString('en')} delivered rows without waiting for delivery to read on; the sink runs on the same 2 cores.`;
console.log(body);
if (!values['no-record'])
  appendSection(
    `idmerge sync from ${sourceType === 'postgres' ? 'PostgreSQL' : 'DuckDB'} to a sink`,
    `pnpm bench:warehouse --source ${sourceType} --rows ${values.rows} --page-size ${pageSize}`,
    body,
  );

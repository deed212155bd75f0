/**
 * `idmerge import` throughput: N events from NDJSON to a sandbox in --sink mode on loopback
 * (no validation or identity work on the server side), events/s and peak RSS of the importer.
 *
 *   pnpm bench:import-sink [--events 1000000]
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeEventFile } from './lib/events.js';
import { REPO_ROOT, startSandbox, timeIdmerge } from './lib/processes.js';
import { appendSection } from './lib/report.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    'max-old-space-mb': { type: 'string' },
    'no-record': { type: 'boolean', default: false },
  },
});
const count = Number(values.events);
const heapCap = values['max-old-space-mb'] === undefined ? undefined : Number(values['max-old-space-mb']);
const dataDir = join(REPO_ROOT, 'bench', '.data');
mkdirSync(dataDir, { recursive: true });
const file = join(dataDir, `events-${count}.ndjson`);
if (!existsSync(file)) {
  console.log(`writing ${count} events to ${file}`);
  await writeEventFile(file, count);
}

const sink = await startSandbox(['--mode', 'simplified', '--sink']);
try {
  const run = await timeIdmerge(
    ['import', file, '--mode', 'simplified', '--json', '--dead-letter', join(dataDir, 'dead-letter.ndjson')],
    {
      MIXPANEL_PROJECT_TOKEN: 'bench-token',
      MIXPANEL_API_HOST: sink.url,
    },
    heapCap === undefined ? [] : [`--max-old-space-size=${heapCap}`],
  );
  const report = JSON.parse(run.stdout) as { delivered: number; deadLettered: number };
  const stats = (await (await fetch(`${sink.url}/_sandbox/stats`)).json()) as {
    accepted: number;
    duplicates: number;
  };
  const eps = Math.round(count / run.seconds);
  const body = `| events | delivered | unique at the sink | wall seconds (incl. start-up) | events/s | peak RSS |
| --- | --- | --- | --- | --- | --- |
| ${count.toLocaleString('en')} | ${report.delivered.toLocaleString('en')} | ${stats.accepted.toLocaleString('en')} | ${run.seconds.toFixed(1)} | ${eps.toLocaleString('en')} | ${Math.round(run.peakRssMb)} MB |

Targets: ≥ 100,000 events/s, peak RSS ≤ 250 MB. The importer validates every event (strict rules) before sending; batches of 2000, gzip, 10 concurrent requests; the sink runs on the same 2 cores.${heapCap === undefined ? " The importer holds V8's young generation at its starting size and runs a full garbage collection whenever its old generation grew by 2 MB (V8 would let old space grow by a hundred megabytes first)." : ` Importer started with --max-old-space-size=${heapCap}.`}`;
  console.log(body);
  if (!values['no-record'])
    appendSection(
      `idmerge import to a sink${heapCap === undefined ? '' : `, heap capped at ${heapCap} MB`}`,
      `pnpm bench:import-sink --events ${count}${heapCap === undefined ? '' : ` --max-old-space-mb ${heapCap}`}`,
      body,
    );
} finally {
  sink.stop();
}

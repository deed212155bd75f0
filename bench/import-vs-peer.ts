/**
 * Side by side: `idmerge import` (A) against the npm package mixpanel-import (B), on the same NDJSON
 * file, the same settings (batches of 2000, gzip level 1, 10 concurrent requests, strict mode) and
 * the same sink: `idmerge sandbox --sink` over HTTPS in its own process. Both tools believe they talk
 * to https://api.mixpanel.com: a preload in each process sends that host to the sink, whose
 * certificate they verify. Runs alternate A B A B so drift in the machine hits both alike.
 *
 *   pnpm bench:import [--events 1000000] [--runs 3] [--no-record]
 *
 * The last line of output is one JSON object with the medians, for machines.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sinkCertificate } from './lib/certificate.js';
import { writeEventFile } from './lib/events.js';
import { REPO_ROOT, startSandbox, timeIdmerge, timeProcess } from './lib/processes.js';
import { appendSection } from './lib/report.js';
import {
  eventsPerSecond,
  isValidRun,
  median,
  pairRatios,
  resultLine,
  type Summary,
  type ToolRun,
} from './lib/side-by-side.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '3' },
    'no-record': { type: 'boolean', default: false },
  },
});
const events = Number(values.events);
const runs = Number(values.runs);
if (!Number.isInteger(events) || events < 1)
  throw new Error(`--events must be a whole number ≥ 1, not ${values.events}`);
if (!Number.isInteger(runs) || runs < 1)
  throw new Error(`--runs must be a whole number ≥ 1, not ${values.runs}`);

const dataDir = join(REPO_ROOT, 'bench', '.data');
mkdirSync(join(dataDir, 'tls'), { recursive: true });
const file = join(dataDir, `events-${events}.ndjson`);
if (!existsSync(file)) {
  console.log(`writing ${events.toLocaleString('en')} events to ${file}`);
  await writeEventFile(file, events);
}
const { cert, key } = await sinkCertificate();
const certFile = join(dataDir, 'tls', 'sink-cert.pem');
const keyFile = join(dataDir, 'tls', 'sink-key.pem');
writeFileSync(certFile, cert);
writeFileSync(keyFile, key, { mode: 0o600 });

const sink = await startSandbox([
  '--mode',
  'simplified',
  '--sink',
  '--tls-cert',
  certFile,
  '--tls-key',
  keyFile,
]);
const sinkPort = new URL(sink.url).port;

/** A call to the sink's inspection API, over the same verified TLS. */
function sinkCall(method: 'GET' | 'POST', path: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const call = request(`${sink.url}${path}`, { method, ca: cert }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve(JSON.parse(text) as unknown));
    });
    call.on('error', reject);
    call.end();
  });
}

const env = {
  MIXPANEL_API_SECRET: 'bench-secret',
  MIXPANEL_API_HOST: '',
  NODE_EXTRA_CA_CERTS: certFile,
  IDMERGE_BENCH_SINK_PORT: sinkPort,
};
const REDIRECT = join(REPO_ROOT, 'bench', 'lib', 'redirect-preload.cjs');
const PEER = join(REPO_ROOT, 'bench', 'lib', 'peer-import.cjs');

async function measured(label: string, run: () => ReturnType<typeof timeProcess>): Promise<ToolRun> {
  await sinkCall('POST', '/_sandbox/reset');
  const result = await run();
  const stats = (await sinkCall('GET', '/_sandbox/stats')) as { accepted: number; duplicates: number };
  const toolRun: ToolRun = {
    seconds: result.seconds,
    peakRssMb: result.peakRssMb,
    unique: stats.accepted,
    duplicates: stats.duplicates,
    exitCode: result.code,
  };
  console.log(
    `${label}: ${Math.round(eventsPerSecond(events, toolRun)).toLocaleString('en')} events/s, ${result.seconds.toFixed(1)} s, ` +
      `peak RSS ${Math.round(result.peakRssMb)} MB, ${stats.accepted.toLocaleString('en')} unique at the sink` +
      (isValidRun(events, toolRun) ? '' : ' — INVALID'),
  );
  return toolRun;
}

const summary: Summary = { events, ours: [], peer: [] };
try {
  for (let i = 1; i <= runs; i++) {
    summary.ours.push(
      await measured(`A${i} idmerge import`, () =>
        timeIdmerge(
          [
            'import',
            file,
            '--mode',
            'simplified',
            '--json',
            '--dead-letter',
            join(dataDir, 'dead-letter.ndjson'),
          ],
          env,
          ['--require', REDIRECT],
        ),
      ),
    );
    summary.peer.push(
      await measured(`B${i} mixpanel-import`, () => timeProcess(['--require', REDIRECT, PEER, file], env)),
    );
  }
} finally {
  sink.stop();
}

const eps = (list: ToolRun[]) => list.map((r) => eventsPerSecond(events, r));
const fmt = (n: number) => Math.round(n).toLocaleString('en');
const range = (list: number[]) => `${fmt(Math.min(...list))}–${fmt(Math.max(...list))}`;
const line = JSON.parse(resultLine(summary)) as { ratio: number; valid: boolean };
const body = `| tool | events/s median | range | peak RSS median | unique events at the sink (per run) |
| --- | --- | --- | --- | --- |
| A: idmerge import | ${fmt(median(eps(summary.ours)))} | ${range(eps(summary.ours))} | ${fmt(median(summary.ours.map((r) => r.peakRssMb)))} MB | ${summary.ours.map((r) => r.unique.toLocaleString('en')).join(', ')} |
| B: mixpanel-import 3.1.43 | ${fmt(median(eps(summary.peer)))} | ${range(eps(summary.peer))} | ${fmt(median(summary.peer.map((r) => r.peakRssMb)))} MB | ${summary.peer.map((r) => r.unique.toLocaleString('en')).join(', ')} |

Ratio A/B per pair: ${pairRatios(summary)
  .map((r) => r.toFixed(2))
  .join(
    ', ',
  )} (median ${line.ratio}). ${line.valid ? 'Every run delivered every event exactly once.' : '**Invalid: at least one run did not deliver every event exactly once.**'}

${events.toLocaleString('en')} events (~335 bytes, 12 properties; 40% anonymous, 10% login links, 50% identified) from one NDJSON file; both tools with batches of 2000, gzip level 1, 10 concurrent requests, strict mode, over HTTPS to \`idmerge sandbox --sink\` in its own process (a preload sends api.mixpanel.com to it; the certificate is verified). Runs alternate A B; wall time includes each process's start-up. Targets: ratio ≥ 2.0, A ≥ 100,000 events/s, A's peak RSS ≤ half of B's.`;
console.log(body);
if (!values['no-record'])
  appendSection(
    'idmerge import against mixpanel-import',
    `pnpm bench:import --events ${events} --runs ${runs}`,
    body,
  );
console.log(resultLine(summary));

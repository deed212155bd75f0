/**
 * `idmerge collect`, durable mode (its default), as Segment clients use it: senders post
 * `/v1/batch` requests shaped as `@segment/analytics-node` sends them (`flushAt` calls per batch,
 * its message IDs, context and metadata, Basic auth) to a collect process that delivers to
 * `idmerge sandbox --sink`. Client, collect and sink share the machine's cores.
 *
 * Measures: calls answered per second while sending, answer latency (p50/p99), collect's peak RSS,
 * and the time until the sink holds every call. Targets: ≥ 30,000 calls/s, p99 ≤ 50 ms, ≤ 150 MB.
 *
 *   pnpm bench:segment [--events 300000] [--senders 32] [--flush-at 15] [--cpu-prof <dir>] [--record]
 *
 * `--cpu-prof <dir>` writes a V8 CPU profile of the collect process into `<dir>` (open it in
 * Chrome DevTools or read self time by function), to see where its CPU per call goes.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { IDMERGE, startSandbox } from './lib/processes.js';
import { appendSection, machine } from './lib/report.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '300000' },
    senders: { type: 'string', default: '32' },
    'flush-at': { type: 'string', default: '15' },
    'cpu-prof': { type: 'string' },
    record: { type: 'boolean', default: false },
  },
});
const total = Number(values.events);
const senders = Number(values.senders);
const flushAt = Number(values['flush-at']);
const WRITE_KEY = 'bench-write-key';
const PRELOAD = join(import.meta.dirname, 'lib', 'peak-rss-preload.cjs');

/** One call as analytics-node 3.x builds it (track, with its context and metadata). */
function nodeCall(i: number, now: number): Record<string, unknown> {
  const userId = i % 3 === 0 ? `user-${i % 2000}` : undefined;
  return {
    type: 'track',
    event: i % 7 === 0 ? 'Signed Up' : 'Page Viewed',
    properties: { path: `/page/${i % 100}`, plan: 'pro', amount: i % 50 },
    anonymousId: `device-${i % 5000}`,
    ...(userId !== undefined ? { userId } : {}),
    timestamp: new Date(now - (i % 3600) * 1000).toISOString(),
    context: { library: { name: '@segment/analytics-node', version: '3.1.0' } },
    integrations: {},
    messageId: `node-next-${now}-${randomUUID()}`,
    _metadata: { nodeVersion: process.versions.node, jsRuntime: 'node' },
  };
}

const now = Date.now();
const requests = Math.ceil(total / flushAt);
const bodies = Array.from({ length: requests }, (_, r) =>
  Buffer.from(
    JSON.stringify({
      batch: Array.from({ length: Math.min(flushAt, total - r * flushAt) }, (_, i) =>
        nodeCall(r * flushAt + i, now),
      ),
      sentAt: new Date().toISOString(),
    }),
  ),
);

const sink = await startSandbox(['--mode', 'simplified', '--sink']);
const dataDir = mkdtempSync(join(tmpdir(), 'idmerge-bench-collect-'));
const rssFile = join(dataDir, 'peak-rss');
const collect = spawn(
  process.execPath,
  [
    '--require',
    PRELOAD,
    ...(values['cpu-prof'] !== undefined ? ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof']] : []),
    IDMERGE,
    'collect',
    '--mode',
    'simplified',
    '--port',
    '0',
    '--data-dir',
    join(dataDir, 'data'),
  ],
  {
    env: {
      ...process.env,
      MIXPANEL_PROJECT_TOKEN: 'bench',
      MIXPANEL_API_HOST: sink.url,
      SEGMENT_WRITE_KEY: WRITE_KEY,
      IDMERGE_PEAK_RSS_FILE: rssFile,
    },
    // The request log goes to a file, as a service's would; it is read for errors at the end.
    stdio: ['ignore', 'pipe', 'pipe'],
  },
);
let out = '';
let errors = '';
collect.stderr.setEncoding('utf8').on('data', (chunk: string) => {
  for (const line of chunk.split('\n'))
    if (line.includes('"level":"error"') || line.includes('"level":"fatal"')) errors += `${line}\n`;
});
const url = new URL(
  await new Promise<string>((resolve, reject) => {
    collect.once('exit', (code) => reject(new Error(`collect exited with ${code}: ${errors}`)));
    collect.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const match = /listening on (http:\S+)/.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
  }),
);

const agent = new http.Agent({ keepAlive: true, maxSockets: senders });
const authorization = `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`;
function post(body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: '/v1/batch',
        method: 'POST',
        agent,
        headers: {
          'Content-Type': 'application/json',
          'Content-Length': body.length,
          Authorization: authorization,
          'User-Agent': 'analytics-node-next/latest',
        },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

async function stats<T>(base: string, path: string): Promise<T> {
  return (await (await fetch(base + path)).json()) as T;
}

const latencies: number[] = [];
let next = 0;
let notOk = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: senders }, async () => {
    while (next < bodies.length) {
      const body = bodies[next++] as Buffer;
      const t = performance.now();
      const status = await post(body);
      latencies.push(performance.now() - t);
      if (status !== 200) notOk++;
    }
  }),
);
const answeredSeconds = (performance.now() - started) / 1000;
for (let polls = 0; ; polls++) {
  const s = await stats<{ delivered: number; deadLettered: number }>(url.origin, '/stats');
  if (s.delivered + s.deadLettered >= total) break;
  if (polls % 50 === 49) console.log(`waiting for delivery: ${JSON.stringify(s)}`);
  await new Promise((resolve) => setTimeout(resolve, 100));
}
const deliveredSeconds = (performance.now() - started) / 1000;
const final = await stats<{ delivered: number; deadLettered: number; queue: { calls: number } }>(
  url.origin,
  '/stats',
);
const sinkStats = await stats<{ accepted: number }>(sink.url, '/_sandbox/stats');
// CPU seconds collect used (user + system), from /proc: the figure that does not depend on how
// busy the machine's other processes keep its cores.
const ticks = readFileSync(`/proc/${collect.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
const cpuSeconds = (Number(ticks[11]) + Number(ticks[12])) / 100;
collect.removeAllListeners('exit');
const exited = new Promise<number | null>((resolve) => collect.once('exit', resolve));
collect.kill('SIGTERM');
await exited;
sink.stop();
agent.destroy();
const peakRssMb = Number(readFileSync(rssFile, 'utf8')) / 1024;
rmSync(dataDir, { recursive: true, force: true });

latencies.sort((a, b) => a - b);
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
const callsPerSecond = Math.round(total / answeredSeconds);
const lines = [
  `collect (durable): ${total.toLocaleString('en')} calls in ${requests.toLocaleString('en')} batches of ${flushAt} from ${senders} senders`,
  `  answered:  ${answeredSeconds.toFixed(2)} s = ${callsPerSecond.toLocaleString('en')} calls/s (target ≥ 30,000); ${notOk} answers not 200`,
  `  latency:   p50 ${pct(0.5).toFixed(1)} ms, p99 ${pct(0.99).toFixed(1)} ms, max ${pct(1).toFixed(1)} ms (target p99 ≤ 50 ms)`,
  `  delivered: ${final.delivered.toLocaleString('en')} (dead-lettered ${final.deadLettered}) after ${deliveredSeconds.toFixed(2)} s; sink holds ${sinkStats.accepted.toLocaleString('en')}`,
  `  peak RSS:  ${peakRssMb.toFixed(0)} MB (target ≤ 150 MB)`,
  `  CPU:       collect used ${cpuSeconds.toFixed(2)} s = ${Math.round((cpuSeconds * 1e6) / total)} µs per call (accepting and delivering)`,
];
console.log(lines.join('\n'));
if (errors !== '') console.log(`collect logged errors:\n${errors}`);
if (values.record)
  appendSection(
    'idmerge collect (durable) to a sink',
    `pnpm bench:segment --events ${total} --senders ${senders} --flush-at ${flushAt}`,
    `| calls | batches of | senders | calls/s answered | p50 ms | p99 ms | delivered after s | peak RSS MB |
| --- | --- | --- | --- | --- | --- | --- | --- |
| ${total.toLocaleString('en')} | ${flushAt} | ${senders} | ${callsPerSecond.toLocaleString('en')} | ${pct(0.5).toFixed(1)} | ${pct(0.99).toFixed(1)} | ${deliveredSeconds.toFixed(1)} | ${peakRssMb.toFixed(0)} |

${machine()}. Client, collect and sink share the cores; each answer follows the call's fdatasync (group commit). Sink holds ${sinkStats.accepted.toLocaleString('en')}; ${notOk} answers not 200.`,
  );
if (final.delivered + final.deadLettered < total || notOk > 0) process.exitCode = 1;

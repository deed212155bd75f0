/**
 * Segment destination and `idmerge collect`:
 * 1. performBatch of 1,000 track events through actions-core (field mapping, the shared mapping
 *    layer, JSON serialization of every payload), no network: events/s.
 * 2. `idmerge collect` sustained throughput: clients post /v1/batch calls (100 events each) to a
 *    collect process that delivers to `idmerge sandbox --sink`; calls accepted/s and delivered/s.
 *
 *   pnpm bench:segment [--rounds 50] [--events 200000] [--clients 8]
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createDestination } from '@idmerge/segment-destination';
import { IDMERGE, REPO_ROOT, startSandbox } from './lib/processes.js';
import { appendSection } from './lib/report.js';
import { Destination, defaultValues } from '../connectors/segment-destination/src/actions-core.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '50' },
    events: { type: 'string', default: '200000' },
    clients: { type: 'string', default: '8' },
    'no-record': { type: 'boolean', default: false },
  },
});
const rounds = Number(values.rounds);
const total = Number(values.events);
const clients = Number(values.clients);
const BATCH = 1000;

function trackCall(i: number, now: number): Record<string, unknown> {
  return {
    type: 'track',
    event: i % 7 === 0 ? 'Signed Up' : 'Page Viewed',
    messageId: `msg-${i}`,
    anonymousId: `device-${i % 5000}`,
    ...(i % 3 === 0 ? { userId: `user-${i % 2000}` } : {}),
    timestamp: new Date(now - (i % 3600) * 1000).toISOString(),
    properties: { path: `/page/${i % 100}`, plan: 'pro', amount: i % 50 },
    context: { library: { name: 'analytics-node', version: '3.1.0' }, ip: '10.0.0.1' },
  };
}

// 1. performBatch, mapping + serialization only.
let bytes = 0;
const definition = createDestination({
  sink: (payload) => {
    bytes += JSON.stringify(payload.body).length;
    return undefined;
  },
});
const destination = new Destination(definition);
const trackEvent = definition.actions.trackEvent;
if (!trackEvent) throw new Error('trackEvent action missing');
const mapping = defaultValues(trackEvent.fields);
const settings = { project_token: 'bench', id_merge_api: 'simplified' as const };
const now = Date.now();
const batches = Array.from({ length: rounds }, (_, r) =>
  Array.from({ length: BATCH }, (_, i) => trackCall(r * BATCH + i, now)),
);
// Warm-up round, not timed.
await destination.executeBatch('trackEvent', { events: batches[0] as never, mapping, settings });
let failed = 0;
const started = process.hrtime.bigint();
for (const events of batches) {
  const results = await destination.executeBatch('trackEvent', {
    events: events as never,
    mapping,
    settings,
  });
  failed += results.filter((r) => r.status >= 300).length;
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const batchEps = Math.round((rounds * BATCH) / seconds);
console.log(
  `performBatch: ${rounds} × ${BATCH} events in ${seconds.toFixed(2)} s = ${batchEps} events/s, ${failed} failed, ${(bytes / 1e6).toFixed(1)} MB of JSON`,
);

// 2. collect sustained throughput to a sink.
const sink = await startSandbox(['--mode', 'simplified', '--sink']);
console.log(`sink at ${sink.url}`);
const collect = spawn(
  process.execPath,
  [
    IDMERGE,
    'collect',
    '--mode',
    'simplified',
    '--port',
    '0',
    '--dead-letter',
    join(REPO_ROOT, 'bench', '.data', 'collect-dead-letter.ndjson'),
  ],
  {
    env: { ...process.env, MIXPANEL_PROJECT_TOKEN: 'bench', MIXPANEL_API_HOST: sink.url },
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
let out = '';
const url = await new Promise<string>((resolve, reject) => {
  collect.once('exit', (code) => reject(new Error(`collect exited with ${code}`)));
  collect.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    const match = /listening on (http:\S+)/.exec(out);
    if (match?.[1]) resolve(match[1]);
  });
});
console.log(`collect at ${url}`);
const perCall = 100;
const calls = Math.ceil(total / perCall);
let next = 0;
let refused = 0;
const collectStart = process.hrtime.bigint();
await Promise.all(
  Array.from({ length: clients }, async () => {
    while (next < calls) {
      const c = next++;
      const batch = Array.from({ length: perCall }, (_, i) => trackCall(c * perCall + i, now));
      const response = await fetch(`${url}/v1/batch`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ batch }),
      });
      if (response.status !== 200) refused++;
      await response.arrayBuffer();
    }
  }),
);
const acceptedSeconds = Number(process.hrtime.bigint() - collectStart) / 1e9;
collect.removeAllListeners('exit');
const exit = new Promise<number | null>((resolve) => collect.once('exit', resolve));
collect.kill('SIGTERM');
await exit;
const deliveredSeconds = Number(process.hrtime.bigint() - collectStart) / 1e9;
const stats = (await (await fetch(`${sink.url}/_sandbox/stats`)).json()) as { accepted: number };
sink.stop();
const delivered = /delivered:\s+(\d+)/.exec(out)?.[1] ?? '?';
console.log(
  `collect: ${calls * perCall} events accepted in ${acceptedSeconds.toFixed(1)} s (${Math.round((calls * perCall) / acceptedSeconds)}/s), ` +
    `${delivered} delivered in ${deliveredSeconds.toFixed(1)} s, sink has ${stats.accepted}, ${refused} calls refused`,
);

if (!values['no-record']) {
  appendSection(
    'Segment destination performBatch and idmerge collect to a sink',
    `pnpm bench:segment --rounds ${rounds} --events ${total} --clients ${clients}`,
    `| measurement | events | seconds | events/s |
| --- | --- | --- | --- |
| performBatch (trackEvent, 1,000 per batch; actions-core field mapping + shared mapping + JSON) | ${(rounds * BATCH).toLocaleString('en')} | ${seconds.toFixed(2)} | ${batchEps.toLocaleString('en')} |
| collect: calls answered (${clients} clients, /v1/batch of ${perCall}) | ${(calls * perCall).toLocaleString('en')} | ${acceptedSeconds.toFixed(1)} | ${Math.round((calls * perCall) / acceptedSeconds).toLocaleString('en')} |
| collect: delivered to the sink (until the sender has flushed) | ${delivered} (sink: ${stats.accepted.toLocaleString('en')}) | ${deliveredSeconds.toFixed(1)} | ${Math.round(Number(delivered) / deliveredSeconds).toLocaleString('en')} |

performBatch failed items: ${failed}; collect calls refused: ${refused}. Client, collect and sink share the same 2 cores.`,
  );
}

/**
 * Identity model throughput: resolves generated events (40% anonymous, 10% login links, 50%
 * identified) over a fixed pool of IDs and records events/second and peak RSS.
 *
 *   pnpm bench:resolve [--events 10000000] [--ids 2000000] [--no-validate]
 */
import { parseArgs } from 'node:util';
import { createIdentityModel, seededRandom, type MixpanelEvent } from '@idmerge/shared';
import { appendSection, peakRssMb } from './lib/report.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '10000000' },
    ids: { type: 'string', default: '2000000' },
    'no-validate': { type: 'boolean', default: false },
    'no-record': { type: 'boolean', default: false },
  },
});
const eventCount = Number(values.events);
const idCount = Number(values.ids);
const validate = !values['no-validate'];
const devices = Math.floor(idCount * 0.6);
const users = idCount - devices;

const next = seededRandom(42);
const baseTime = 1763800000;
const model = createIdentityModel('simplified', { validate });

function makeEvent(i: number): MixpanelEvent {
  const roll = next();
  const device = Math.floor(next() * devices);
  // Devices belong to one user, but 1% of logins happen on someone else's device (a shared computer).
  const user = next() < 0.01 ? Math.floor(next() * users) : device % users;
  const properties: MixpanelEvent['properties'] = { time: baseTime + (i % 86400), $insert_id: `e${i}` };
  if (roll < 0.4) properties.$device_id = `D${device}`;
  else if (roll < 0.5) {
    properties.$device_id = `D${device}`;
    properties.$user_id = `U${user}`;
  } else properties.$user_id = `U${user}`;
  return { event: roll < 0.5 ? 'Page Viewed' : 'Purchase', properties };
}

// Events are generated in chunks outside the timed part, so the figure is the model's own speed.
const CHUNK = 10_000;
let modelNs = 0n;
let failures = 0;
const started = process.hrtime.bigint();
for (let start = 0; start < eventCount; start += CHUNK) {
  const chunk: MixpanelEvent[] = [];
  for (let i = start; i < Math.min(start + CHUNK, eventCount); i++) chunk.push(makeEvent(i));
  const chunkStarted = process.hrtime.bigint();
  for (const event of chunk) {
    const outcome = model.ingest(event);
    if (outcome.status === 'accepted' && outcome.failureReason !== undefined) failures++;
  }
  modelNs += process.hrtime.bigint() - chunkStarted;
}
const totalSeconds = Number(process.hrtime.bigint() - started) / 1e9;
const seconds = Number(modelNs) / 1e9;
const stats = model.stats();
const eps = Math.round(eventCount / seconds);
const rss = Math.round(peakRssMb());

const command = `pnpm bench:resolve --events ${eventCount} --ids ${idCount}${validate ? '' : ' --no-validate'}`;
const body = `| events | IDs in the model | clusters | failed links | validation | model seconds | events/s | with generation | peak RSS |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
| ${eventCount.toLocaleString('en')} | ${stats.ids.toLocaleString('en')} | ${stats.clusters.toLocaleString('en')} | ${failures.toLocaleString('en')} | ${validate ? 'strict' : 'off'} | ${seconds.toFixed(1)} | ${eps.toLocaleString('en')} | ${Math.round(eventCount / totalSeconds).toLocaleString('en')} | ${rss} MB |

Targets: ≥ 1,000,000 events/s and ≤ 1 GB peak RSS. "events/s" times the model alone (events are generated in chunks of 10,000 outside the clock); "with generation" includes making the event objects.`;
console.log(body);
if (!values['no-record']) appendSection('Identity model: resolve', command, body);

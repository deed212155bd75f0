import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { createSender, loadMixpanelConfig } from '@idmerge/shared/sender';
import { afterEach, describe, expect, it } from 'vitest';
import { mapStored } from './prepared.js';
import { sendCalls, type UnitCalls } from './outcomes.js';

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/** A local /import that answers each request with `answer(events)`. */
async function mixpanel(
  answer: (events: Array<{ properties: { $insert_id: string } }>) => {
    status: number;
    body: unknown;
  },
): Promise<string> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks);
      const text = request.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
      const { status, body } = answer(JSON.parse(text.toString('utf8')));
      response.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const call = (i: number) => ({
  type: 'track',
  event: 'E',
  anonymousId: `d${i}`,
  messageId: `m-${i}`,
  timestamp: new Date().toISOString(),
});
const records = [0, 1, 2].map((i) => JSON.stringify({ call: call(i) }));
records.push(JSON.stringify({ refused: 'type must be one of …', field: 'type', call: { type: 'x' } }));
const mapping = { mode: 'simplified' as const };
const calls: UnitCalls = {
  map: (index) => mapStored(records[index] as string, mapping),
  stored: (index) => (JSON.parse(records[index] as string) as { call: unknown }).call,
};

async function send(url: string) {
  const config = loadMixpanelConfig(
    { MIXPANEL_PROJECT_TOKEN: 'token', MIXPANEL_API_SECRET: 'secret', MIXPANEL_API_HOST: url },
    { importAuth: true },
  );
  return sendCalls(
    (deadLetter) =>
      createSender(config, {
        deadLetter,
        maxRetries: 0,
        backoff: { initialMs: 1, maxMs: 1, jitterMinMs: 0, jitterMaxMs: 1 },
      }),
    [0, 1, 2, 3],
    calls,
  );
}

describe('sendCalls: each call mapped as it is sent, sorted by what Mixpanel did with it', () => {
  it('a record Mixpanel refuses alone is dead-lettered with the call as stored; the others are delivered', async () => {
    const url = await mixpanel((events) => ({
      status: 400,
      body: {
        code: 400,
        num_records_imported: events.length - 1,
        status: 'Bad Request',
        failed_records: [
          { index: 1, $insert_id: events[1]?.properties.$insert_id, field: 'properties.x', message: 'no' },
        ],
      },
    }));
    const outcome = await send(url);
    expect(outcome.delivered).toBe(2);
    expect(outcome.retry).toEqual([]);
    expect(outcome.refused).toEqual([
      expect.objectContaining({
        record: { type: 'x' },
        stage: 'validation',
        reason: 'type must be one of …',
      }),
      expect.objectContaining({
        record: expect.objectContaining({ messageId: 'm-1' }),
        reason: expect.stringMatching(/no/),
      }),
    ]);
  });

  it('calls Mixpanel did not take for a reason of its own come back as indices to send again', async () => {
    const url = await mixpanel(() => ({ status: 503, body: { error: 'down' } }));
    const outcome = await send(url);
    expect(outcome).toMatchObject({ delivered: 0, retry: [0, 1, 2] });
    expect(outcome.refused).toEqual([expect.objectContaining({ record: { type: 'x' } })]);
  });
});

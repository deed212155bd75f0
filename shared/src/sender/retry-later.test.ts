import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Payload } from '../payload/index.js';
import { loadMixpanelConfig } from './config.js';
import { createDeadLetterList } from './dead-letter-file.js';
import type { Undelivered } from './report.js';
import { createSender } from './sender.js';

const event = (i: number): Payload => ({
  endpoint: 'import',
  body: { event: 'E', properties: { time: 1763800000, $insert_id: `id-${i}`, distinct_id: `U${i}` } },
});

function setup(retryFailedLater: boolean) {
  const deadLetter = createDeadLetterList();
  const sender = createSender(loadMixpanelConfig({ MIXPANEL_API_SECRET: 'api-secret-1' }), {
    deadLetter,
    batchSize: 2,
    concurrency: 1,
    maxRetries: 1,
    retryFailedLater,
    sleep: async () => {},
  });
  const causes: Array<{ original: unknown } & Undelivered> = [];
  sender.onUndelivered((original, why) => causes.push({ original, ...why }));
  return { sender, deadLetter, causes };
}

beforeAll(() => nock.disableNetConnect());
afterEach(() => {
  expect(nock.pendingMocks()).toEqual([]);
  nock.cleanAll();
});

describe('why a record was not delivered', () => {
  it('tells invalid, refused and failed apart; with retryFailedLater the failed ones are left to the caller', async () => {
    nock('https://api.mixpanel.com')
      .post('/import')
      .query(true)
      .reply(400, { code: 400, num_records_imported: 1, failed_records: [{ index: 1, message: 'bad' }] })
      .post('/import')
      .query(true)
      .times(2)
      .reply(503, 'down')
      .post('/import')
      .query(true)
      .reply(404, 'no such page');
    const { sender, deadLetter, causes } = setup(true);
    await sender.reject({ row: 'x' }, 'no IDs');
    for (let i = 0; i < 6; i++) await sender.send(event(i), { row: i });
    const report = await sender.flush();
    expect(causes.map((c) => [c.original, c.cause])).toEqual([
      [{ row: 'x' }, 'invalid'],
      [{ row: 1 }, 'refused'],
      [{ row: 2 }, 'failed'],
      [{ row: 3 }, 'failed'],
      [{ row: 4 }, 'failed'],
      [{ row: 5 }, 'failed'],
    ]);
    expect(causes[3]?.reason).toMatch(/gave up after 1 retries: HTTP 503/);
    expect(causes[5]?.reason).toMatch(/HTTP 404/);
    expect(report).toMatchObject({ recordsIn: 7, delivered: 1, deadLettered: 2, toRetry: 4 });
    expect(report.toRetryBecause).toMatch(/HTTP 503/);
    expect(deadLetter.entries.map((e) => e.record)).toEqual([{ row: 'x' }, { row: 1 }]);
  });

  it('dead-letters the failed ones by default', async () => {
    nock('https://api.mixpanel.com').post('/import').query(true).times(2).reply(503, 'down');
    const { sender, deadLetter } = setup(false);
    for (let i = 0; i < 2; i++) await sender.send(event(i), { row: i });
    const report = await sender.flush();
    expect(report).toMatchObject({ deadLettered: 2, toRetry: 0 });
    expect(deadLetter.entries).toHaveLength(2);
  });
});

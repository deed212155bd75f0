import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { APIError, createTestIntegration, RetryableError } from './actions-core.js';
import { destination } from './destination.js';
import { HOSTS, intercept, SIMPLIFIED } from './test-support.js';

// Mixpanel's strict /import answers, as the destination must read them (the shared answers reader):
// every shape of failed_records item fails exactly the event that owns the named record.

const T = '2026-11-20T10:00:00.000Z';
const track = (i: number) => ({
  type: 'track' as const,
  event: `Event ${i}`,
  messageId: `m-${i}`,
  userId: null,
  anonymousId: `device-${i}`,
  timestamp: T,
  properties: { i },
});

beforeAll(() => {
  nock.disableNetConnect();
});
afterEach(() => {
  expect(nock.pendingMocks()).toEqual([]);
  nock.cleanAll();
});

function strict400(size: number, failed_records: unknown[]): () => [number, unknown] {
  return () => [
    400,
    {
      code: 400,
      error: 'some data points in the request failed validation',
      status: 'Bad Request',
      num_records_imported: size - failed_records.length,
      failed_records,
    },
  ];
}

async function batchResults(size: number) {
  const integration = createTestIntegration(destination);
  await integration.testBatchAction('trackEvent', {
    events: Array.from({ length: size }, (_, i) => track(i)),
    settings: SIMPLIFIED,
    useDefaultMappings: true,
  });
  return (integration.results[0]?.multistatus ?? []).map((entry) => ({
    status: entry.status,
    message: 'errormessage' in entry ? entry.errormessage : undefined,
  }));
}

const shapes: Array<[string, (i: number) => unknown]> = [
  [
    'index and $insert_id',
    (i) => ({ index: i, $insert_id: `m-${i}`, field: 'properties.time', message: 'too old' }),
  ],
  ['$insert_id only', (i) => ({ $insert_id: `m-${i}`, field: 'properties.time', message: 'too old' })],
  ['insert_id only', (i) => ({ insert_id: `m-${i}`, field: 'properties.time', message: 'too old' })],
  ['a plain string', (i) => `m-${i}`],
];

describe('performBatch reads every failed_records shape', () => {
  for (const [shape, item] of shapes) {
    it(`${shape}: exactly the named event fails, at every position; the others are 200`, async () => {
      const size = 3;
      for (let failed = 0; failed < size; failed++) {
        intercept(HOSTS.us, 'import', [], strict400(size, [item(failed)]));
        const results = await batchResults(size);
        expect(results.map((r) => r.status)).toEqual(
          Array.from({ length: size }, (_, i) => (i === failed ? 400 : 200)),
        );
        expect(results[failed]?.message).toMatch(
          shape === 'a plain string' ? /failed validation/ : /properties\.time: too old/,
        );
      }
    });
  }

  it('failures Mixpanel does not tie to an event fail every event it did not name, never 200', async () => {
    intercept(
      HOSTS.us,
      'import',
      [],
      strict400(3, [
        { field: 'event', message: 'bad' },
        { $insert_id: 'm-2', field: 'event', message: 'named' },
      ]),
    );
    const results = await batchResults(3);
    expect(results.map((r) => r.status)).toEqual([400, 400, 400]);
    expect(results[2]?.message).toMatch(/named/);
    expect(results[0]?.message).toMatch(/refused 1 of the 3 events of the request without saying which/);
  });

  it('a strict 400 naming no record rejects the whole request, not retryable', async () => {
    intercept(HOSTS.us, 'import', [], () => [
      400,
      { code: 400, error: 'bad request', status: 'Bad Request' },
    ]);
    const results = await batchResults(2);
    expect(results.map((r) => r.status)).toEqual([400, 400]);
    expect(results[0]?.message).toMatch(/Mixpanel rejected the request \(400\)/);
  });
});

describe('perform reads them too', () => {
  it('a single event named only by insert_id is a rejection, not a success', async () => {
    intercept(
      HOSTS.us,
      'import',
      [],
      strict400(1, [{ insert_id: 'm-1', field: 'properties.time', message: 'too old' }]),
    );
    const error: unknown = await createTestIntegration(destination)
      .testAction('trackEvent', { event: track(1), settings: SIMPLIFIED, useDefaultMappings: true })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect(error).not.toBeInstanceOf(RetryableError);
    expect((error as Error).message).toContain('too old');
  });
});

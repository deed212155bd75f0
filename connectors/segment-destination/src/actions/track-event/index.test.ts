import { describe, expect, it } from 'vitest';
import {
  APIError,
  InvalidAuthenticationError,
  PayloadValidationError,
  RetryableError,
} from '../../actions-core.js';
import type { Settings } from '../../settings.js';
import {
  events,
  HOSTS,
  intercept,
  ORIGINAL,
  SIMPLIFIED,
  T,
  testDestination,
  useNock,
  type Captured,
} from '../../test-support.js';
import type { TrackEventPayload } from './fields.js';
import { trackCall } from './index.js';

useNock();

function track(i: number, extra: Record<string, unknown> = {}) {
  return {
    type: 'track' as const,
    event: `Event ${i}`,
    messageId: `m-${i}`,
    userId: null,
    anonymousId: `device-${i}`,
    timestamp: T,
    properties: { i },
    ...extra,
  };
}

describe('trackEvent perform', () => {
  it('Simplified: gzipped /import in the region, service-account auth, $device_id/$user_id and no distinct_id', async () => {
    const captured: Captured[] = [];
    intercept(HOSTS.us, 'import', captured);
    await testDestination().testAction('trackEvent', {
      event: track(1, { userId: 'u-1' }),
      settings: SIMPLIFIED,
      useDefaultMappings: true,
    });
    const [request] = captured;
    expect(request?.path).toBe('/import?strict=1&project_id=4242');
    expect(request?.gzip).toBe(true);
    expect(request?.headers.authorization).toBe(
      `Basic ${Buffer.from('sa.user:sa-secret').toString('base64')}`,
    );
    const [sent] = events(captured);
    expect(sent?.event).toBe('Event 1');
    expect(sent?.properties).toMatchObject({
      $device_id: 'device-1',
      $user_id: 'u-1',
      $insert_id: 'm-1',
      i: 1,
    });
    expect(sent?.properties).not.toHaveProperty('distinct_id');
    expect(sent?.properties.time).toBe(Date.parse(T));
  });

  it('Original: EU host, distinct_id is the user ID or else the anonymous ID, never empty', async () => {
    const captured: Captured[] = [];
    intercept(HOSTS.eu, 'import', captured, undefined, 2);
    const integration = testDestination();
    await integration.testAction('trackEvent', {
      event: track(1, { userId: 'u-1' }),
      settings: ORIGINAL,
      useDefaultMappings: true,
    });
    await integration.testAction('trackEvent', {
      event: track(2),
      settings: ORIGINAL,
      useDefaultMappings: true,
    });
    const sent = events(captured);
    expect(sent.map((e) => e.properties.distinct_id)).toEqual(['u-1', 'device-2']);
    expect(sent[0]?.properties).not.toHaveProperty('$device_id');
  });

  it('India region and API-secret auth', async () => {
    const captured: Captured[] = [];
    intercept(HOSTS.in, 'import', captured);
    const settings: Settings = {
      project_token: 't',
      id_merge_api: 'simplified',
      region: 'in',
      api_secret: 'apisec',
    };
    await testDestination().testAction('trackEvent', { event: track(1), settings, useDefaultMappings: true });
    expect(captured[0]?.path).toBe('/import?strict=1');
    expect(captured[0]?.headers.authorization).toBe(`Basic ${Buffer.from('apisec:').toString('base64')}`);
  });

  it('page and screen calls become "Viewed {name}" events', async () => {
    const captured: Captured[] = [];
    intercept(HOSTS.us, 'import', captured, undefined, 2);
    const integration = testDestination();
    await integration.testAction('trackEvent', {
      event: { ...track(1), type: 'page', name: 'Pricing' },
      settings: SIMPLIFIED,
      useDefaultMappings: true,
    });
    await integration.testAction('trackEvent', {
      event: { ...track(2), type: 'screen', name: 'Home' },
      settings: SIMPLIFIED,
      useDefaultMappings: true,
    });
    expect(events(captured).map((e) => e.event)).toEqual(['Viewed Pricing', 'Viewed Home']);
  });

  it('typed errors: invalid call, 429/5xx retryable, 400 not retryable, 401 authentication', async () => {
    const integration = testDestination();
    await expect(
      integration.testAction('trackEvent', {
        event: track(1, { anonymousId: null }),
        settings: SIMPLIFIED,
        useDefaultMappings: true,
      }),
    ).rejects.toBeInstanceOf(PayloadValidationError);
    for (const status of [429, 500, 503]) {
      intercept(HOSTS.us, 'import', [], () => [status, { code: status, error: 'busy', status: 'x' }]);
      const error: unknown = await integration
        .testAction('trackEvent', { event: track(1), settings: SIMPLIFIED, useDefaultMappings: true })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RetryableError);
      expect((error as InstanceType<typeof RetryableError>).status).toBe(status);
    }
    intercept(HOSTS.us, 'import', [], () => [
      400,
      {
        code: 400,
        status: 'Bad Request',
        num_records_imported: 0,
        failed_records: [
          { index: 0, $insert_id: 'm-1', field: 'properties.time', message: "'properties.time' is invalid" },
        ],
      },
    ]);
    const rejected: unknown = await integration
      .testAction('trackEvent', { event: track(1), settings: SIMPLIFIED, useDefaultMappings: true })
      .catch((e: unknown) => e);
    expect(rejected).toBeInstanceOf(APIError);
    expect(rejected).not.toBeInstanceOf(RetryableError);
    expect((rejected as Error).message).toContain('properties.time');
    intercept(HOSTS.us, 'import', [], () => [
      401,
      { code: 401, error: 'Invalid credentials', status: 'Unauthorized' },
    ]);
    await expect(
      integration.testAction('trackEvent', {
        event: track(1),
        settings: SIMPLIFIED,
        useDefaultMappings: true,
      }),
    ).rejects.toBeInstanceOf(InvalidAuthenticationError);
  });
});

describe('trackEvent performBatch', () => {
  const batch = (n: number) => Array.from({ length: n }, (_, i) => track(i));

  it('one gzipped request for the batch; every item succeeds', async () => {
    const captured: Captured[] = [];
    intercept(HOSTS.us, 'import', captured, (body) => [
      200,
      { code: 200, status: 'OK', num_records_imported: (body as unknown[]).length },
    ]);
    const integration = testDestination();
    await integration.testBatchAction('trackEvent', {
      events: batch(5),
      settings: SIMPLIFIED,
      useDefaultMappings: true,
    });
    expect(captured).toHaveLength(1);
    expect(captured[0]?.gzip).toBe(true);
    expect(events(captured).map((e) => e.properties.$insert_id)).toEqual(['m-0', 'm-1', 'm-2', 'm-3', 'm-4']);
    const statuses = integration.results[0]?.multistatus?.map((r) => r.status);
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
  });

  for (const mode of ['simplified', 'original'] as const) {
    it(`${mode}: a failed record at every position is reported on exactly that item`, async () => {
      const settings = mode === 'simplified' ? SIMPLIFIED : ORIGINAL;
      const size = 4;
      for (let failed = 0; failed < size; failed++) {
        intercept(HOSTS[settings.region ?? 'us'], 'import', [], () => [
          400,
          {
            code: 400,
            status: 'Bad Request',
            num_records_imported: size - 1,
            failed_records: [
              { index: failed, $insert_id: `m-${failed}`, field: 'properties.time', message: 'too old' },
            ],
          },
        ]);
        const integration = testDestination();
        await integration.testBatchAction('trackEvent', {
          events: batch(size),
          settings,
          useDefaultMappings: true,
        });
        const multistatus = integration.results[0]?.multistatus ?? [];
        expect(multistatus.map((r) => r.status)).toEqual(
          Array.from({ length: size }, (_, i) => (i === failed ? 400 : 200)),
        );
        const entry = multistatus[failed];
        expect(entry && 'errormessage' in entry ? entry.errormessage : '').toContain('too old');
      }
    });
  }

  it('an invalid item is rejected on its own with a clear message; the others are delivered', async () => {
    const captured: Captured[] = [];
    intercept(HOSTS.us, 'import', captured);
    const integration = testDestination();
    const input = batch(3);
    input[1] = track(1, { anonymousId: null });
    await integration.testBatchAction('trackEvent', {
      events: input,
      settings: SIMPLIFIED,
      useDefaultMappings: true,
    });
    const multistatus = integration.results[0]?.multistatus ?? [];
    expect(multistatus.map((r) => r.status)).toEqual([200, 400, 200]);
    const bad = multistatus[1];
    expect(bad && 'errormessage' in bad ? bad.errormessage : '').toMatch(
      /track m-1: .*neither a userId nor an anonymousId/,
    );
    expect(events(captured).map((e) => e.properties.$insert_id)).toEqual(['m-0', 'm-2']);
  });

  it('429 and 5xx mark every item of the request retryable with its status; 400 without failed_records is not', async () => {
    for (const status of [429, 502]) {
      intercept(HOSTS.us, 'import', [], () => [status, { code: status, error: 'x', status: 'x' }]);
      const integration = testDestination();
      await integration.testBatchAction('trackEvent', {
        events: batch(2),
        settings: SIMPLIFIED,
        useDefaultMappings: true,
      });
      expect(integration.results[0]?.multistatus?.map((r) => r.status)).toEqual([status, status]);
    }
  });
});

describe('Track Event payload', () => {
  it('is typed by its fields; the builder writes the Segment call field for field', () => {
    const payload: TrackEventPayload = {
      call_type: 'page',
      name: 'Pricing',
      user_id: null,
      anonymous_id: 'd-1',
      message_id: 'm-1',
      timestamp: T,
      properties: { plan: 'pro' },
      context: { ip: '10.0.0.1' },
    };
    expect(trackCall(payload)).toEqual({
      type: 'page',
      name: 'Pricing',
      anonymousId: 'd-1',
      messageId: 'm-1',
      timestamp: T,
      properties: { plan: 'pro' },
      context: { ip: '10.0.0.1' },
    });
    expect(trackCall({ event: 'Played', user_id: 'u-1' })).toEqual({
      type: 'track',
      event: 'Played',
      userId: 'u-1',
    });
    // @ts-expect-error a misspelt field is no field of the action: it does not compile
    const misspelt: TrackEventPayload = { anonymus_id: 'd-1' };
    expect(misspelt).toBeDefined();
  });
});

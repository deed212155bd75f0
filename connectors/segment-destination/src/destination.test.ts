import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  APIError,
  createTestIntegration,
  InvalidAuthenticationError,
  PayloadValidationError,
  RetryableError,
} from './actions-core.js';
import { destination } from './destination.js';
import type { Settings } from './settings.js';
import { events, HOSTS, intercept, ORIGINAL, SIMPLIFIED, type Captured } from './test-support.js';

const ANON_UUID = '2f1d9f3e-6b7a-4c1e-9d2a-0b5c8e7f6a31';
const T = '2026-11-20T10:00:00.000Z';

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

beforeAll(() => {
  nock.disableNetConnect();
});
afterEach(() => {
  expect(nock.pendingMocks()).toEqual([]);
  nock.cleanAll();
});

const testDestination = () => createTestIntegration(destination);

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

describe('identifyUser', () => {
  const identify = (extra: Record<string, unknown>) => ({
    type: 'identify' as const,
    messageId: 'id-1',
    timestamp: T,
    traits: { email: 'a@example.com', plan: 'pro' },
    ...extra,
  });

  it('Simplified: a link event with both IDs to /import and a $set to /engage (plain JSON, token inside)', async () => {
    const captured: Captured[] = [];
    intercept(HOSTS.us, 'import', captured);
    intercept(HOSTS.us, 'engage', captured);
    await testDestination().testAction('identifyUser', {
      event: identify({ userId: 'u-1', anonymousId: 'dev-1' }),
      settings: SIMPLIFIED,
      useDefaultMappings: true,
    });
    const [link] = events(captured);
    expect(link?.event).toBe('Identify');
    expect(link?.properties).toMatchObject({ $device_id: 'dev-1', $user_id: 'u-1' });
    const engage = captured.find((c) => c.path.startsWith('/engage'));
    expect(engage?.gzip).toBe(false);
    expect(engage?.body).toEqual([
      expect.objectContaining({
        $distinct_id: 'u-1',
        $token: 'tok123',
        $set: expect.objectContaining({ $email: 'a@example.com', plan: 'pro' }),
      }),
    ]);
  });

  it('Original: $identify with a UUID v4 anonymous ID', async () => {
    const captured: Captured[] = [];
    intercept(HOSTS.eu, 'import', captured);
    intercept(HOSTS.eu, 'engage', captured);
    await testDestination().testAction('identifyUser', {
      event: identify({ userId: 'u-1', anonymousId: ANON_UUID }),
      settings: ORIGINAL,
      useDefaultMappings: true,
    });
    const [identifyEvent] = events(captured);
    expect(identifyEvent?.event).toBe('$identify');
    expect(identifyEvent?.properties).toMatchObject({ $identified_id: 'u-1', $anon_id: ANON_UUID });
  });

  it('an anonymous-only identify sends no $identify and no empty distinct_id', async () => {
    const integration = testDestination();
    const captured: Captured[] = [];
    // No profile for anonymous visitors by default, so nothing is sent at all.
    await integration.testAction('identifyUser', {
      event: identify({ userId: null, anonymousId: ANON_UUID }),
      settings: ORIGINAL,
      useDefaultMappings: true,
    });
    expect(captured).toEqual([]);
  });

  it('batch: items expanding into several payloads get their failure on the right item', async () => {
    const captured: Captured[] = [];
    // Import receives the two link events; Mixpanel fails the second record, owned by input item 1.
    intercept(HOSTS.us, 'import', captured, () => [
      400,
      {
        code: 400,
        status: 'Bad Request',
        num_records_imported: 1,
        failed_records: [{ index: 1, $insert_id: 'x', field: 'properties.$user_id', message: 'bad id' }],
      },
    ]);
    intercept(HOSTS.us, 'engage', captured, undefined, 2);
    const integration = testDestination();
    await integration.testBatchAction('identifyUser', {
      events: [
        identify({ messageId: 'a', userId: 'u-a', anonymousId: 'd-a' }),
        identify({ messageId: 'b', userId: 'u-b', anonymousId: 'd-b' }),
      ],
      settings: SIMPLIFIED,
      useDefaultMappings: true,
    });
    expect(integration.results[0]?.multistatus?.map((r) => r.status)).toEqual([200, 400]);
  });
});

describe('alias', () => {
  it('Original: $create_alias; Simplified: no identity event', async () => {
    const captured: Captured[] = [];
    intercept(HOSTS.eu, 'import', captured);
    const call = {
      type: 'alias' as const,
      messageId: 'al-1',
      timestamp: T,
      userId: 'u-new',
      previousId: 'u-old',
      anonymousId: null,
    };
    await testDestination().testAction('alias', {
      event: call,
      settings: ORIGINAL,
      useDefaultMappings: true,
    });
    const [sent] = events(captured);
    expect(sent?.event).toBe('$create_alias');
    expect(sent?.properties).toMatchObject({ distinct_id: 'u-old', alias: 'u-new' });

    // Simplified cannot join two user IDs: the item is refused with a message, never sent.
    await expect(
      testDestination().testAction('alias', { event: call, settings: SIMPLIFIED, useDefaultMappings: true }),
    ).rejects.toThrow(/impossible in Simplified/);
    // An alias from the anonymous ID is an ordinary event carrying both IDs.
    const simplified: Captured[] = [];
    intercept(HOSTS.us, 'import', simplified);
    await testDestination().testAction('alias', {
      event: { ...call, anonymousId: 'dev-9', previousId: 'dev-9' },
      settings: SIMPLIFIED,
      useDefaultMappings: true,
    });
    const [linked] = events(simplified);
    expect(linked?.event).not.toMatch(/^\$/);
    expect(linked?.properties).toMatchObject({ $device_id: 'dev-9', $user_id: 'u-new' });
  });
});

describe('groupIdentify', () => {
  it('sets group traits on /groups with the group key and token', async () => {
    for (const settings of [SIMPLIFIED, ORIGINAL]) {
      const captured: Captured[] = [];
      intercept(HOSTS[settings.region ?? 'us'], 'engage', captured);
      intercept(HOSTS[settings.region ?? 'us'], 'groups', captured);
      await testDestination().testAction('groupIdentify', {
        event: {
          type: 'group',
          messageId: 'g-1',
          timestamp: T,
          userId: 'u-1',
          groupId: 'acme',
          traits: { name: 'Acme' },
        },
        settings,
        useDefaultMappings: true,
      });
      expect(captured.find((c) => c.path.startsWith('/groups'))?.body).toEqual([
        expect.objectContaining({
          $group_key: 'company_id',
          $group_id: 'acme',
          $token: 'tok123',
          $set: expect.objectContaining({ $name: 'Acme' }),
        }),
      ]);
    }
  });
});

describe('testAuthentication', () => {
  it('posts an empty strict import to the chosen region with the credentials', async () => {
    const captured: Captured[] = [];
    intercept(HOSTS.eu, 'import', captured, () => [
      200,
      { code: 200, status: 'OK', num_records_imported: 0 },
    ]);
    await testDestination().testAuthentication(ORIGINAL);
    expect(captured[0]?.path).toBe('/import?strict=1&project_id=4242');
    intercept(HOSTS.eu, 'import', [], () => [
      401,
      { code: 401, error: 'Invalid credentials', status: 'Unauthorized' },
    ]);
    await expect(testDestination().testAuthentication(ORIGINAL)).rejects.toThrow();
    await expect(
      testDestination().testAuthentication({ project_token: 't', id_merge_api: 'original' }),
    ).rejects.toThrow(/service account .* or an API secret/);
  });
});

describe('profileOperations', () => {
  for (const settings of [SIMPLIFIED, ORIGINAL]) {
    it(`${settings.id_merge_api}: one /engage record per operation, keyed by the user ID`, async () => {
      const captured: Captured[] = [];
      intercept(HOSTS[settings.region ?? 'us'], 'engage', captured, undefined, 5);
      await testDestination().testAction('profileOperations', {
        event: { type: 'identify', userId: 'u-1', traits: { plan: 'pro' }, context: { ip: '10.0.0.1' } },
        mapping: {
          user_id: { '@path': '$.userId' },
          ip: { '@path': '$.context.ip' },
          set: { '@path': '$.traits' },
          set_once: { first_seen: '2026-01-01' },
          add: { logins: 1 },
          union: { tags: ['a', 'b'] },
          unset: ['legacy'],
        },
        settings,
      });
      const records = captured.flatMap((c) => c.body as Array<Record<string, unknown>>);
      expect(records).toEqual([
        { $distinct_id: 'u-1', $token: 'tok123', $ip: '10.0.0.1', $set: { plan: 'pro' } },
        { $distinct_id: 'u-1', $token: 'tok123', $ip: '10.0.0.1', $set_once: { first_seen: '2026-01-01' } },
        { $distinct_id: 'u-1', $token: 'tok123', $ip: '10.0.0.1', $add: { logins: 1 } },
        { $distinct_id: 'u-1', $token: 'tok123', $ip: '10.0.0.1', $union: { tags: ['a', 'b'] } },
        { $distinct_id: 'u-1', $token: 'tok123', $ip: '10.0.0.1', $unset: ['legacy'] },
      ]);
    });
  }

  it('an invalid operation is refused with the field named; in a batch only that item fails', async () => {
    await expect(
      testDestination().testAction('profileOperations', {
        event: { type: 'identify', userId: 'u-1' },
        mapping: { user_id: { '@path': '$.userId' }, add: { logins: 'many' } },
        settings: SIMPLIFIED,
      }),
    ).rejects.toThrow(/\$add/);
    const captured: Captured[] = [];
    intercept(HOSTS.us, 'engage', captured);
    const integration = testDestination();
    await integration.testBatchAction('profileOperations', {
      events: [
        { type: 'identify', userId: 'u-1', traits: { plan: 'pro' } },
        { type: 'identify', userId: 'u-2', traits: {} },
      ],
      mapping: { user_id: { '@path': '$.userId' }, set: { '@path': '$.traits' } },
      settings: SIMPLIFIED,
    });
    expect(integration.results[0]?.multistatus?.map((r) => r.status)).toEqual([200, 400]);
    expect(captured).toHaveLength(1);
  });

  it('a profile update Mixpanel refuses (status 0) fails its item, not retryable', async () => {
    intercept(HOSTS.us, 'engage', [], () => [200, { status: 0, error: '$add values must be numbers' }]);
    const error: unknown = await testDestination()
      .testAction('profileOperations', {
        event: { type: 'identify', userId: 'u-1' },
        mapping: { user_id: { '@path': '$.userId' }, add: { logins: 1 } },
        settings: SIMPLIFIED,
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect(error).not.toBeInstanceOf(RetryableError);
  });
});

describe('every batched action: a failure at every position lands on exactly that item', () => {
  const SIZE = 3;
  const uuid = (i: number) => `2f1d9f3e-6b7a-4c1e-9d2a-0b5c8e7f6a3${i}`;
  /** One call per item, each mapping to exactly one /import record (so record i is item i). */
  const importActions = {
    identifyUser: (i: number, mode: string) => ({
      type: 'identify' as const,
      messageId: `id-${i}`,
      timestamp: T,
      userId: `u-${i}`,
      anonymousId: mode === 'original' ? uuid(i) : `d-${i}`,
    }),
    alias: (i: number, mode: string) => ({
      type: 'alias' as const,
      messageId: `al-${i}`,
      timestamp: T,
      userId: `u-${i}`,
      previousId: mode === 'original' ? uuid(i) : `d-${i}`,
      anonymousId: mode === 'original' ? null : `d-${i}`,
    }),
  };

  for (const mode of ['simplified', 'original'] as const) {
    const settings = mode === 'simplified' ? SIMPLIFIED : ORIGINAL;
    const host = HOSTS[settings.region ?? 'us'];
    for (const [action, call] of Object.entries(importActions)) {
      it(`${action} (${mode}): /import fails record i → item i`, async () => {
        for (let failed = 0; failed < SIZE; failed++) {
          intercept(host, 'import', [], () => [
            400,
            {
              code: 400,
              status: 'Bad Request',
              num_records_imported: SIZE - 1,
              failed_records: [
                { index: failed, $insert_id: 'x', field: 'properties.time', message: 'too old' },
              ],
            },
          ]);
          const integration = testDestination();
          await integration.testBatchAction(action, {
            events: Array.from({ length: SIZE }, (_, i) => call(i, mode)),
            settings,
            useDefaultMappings: true,
          });
          expect(integration.results[0]?.multistatus?.map((r) => r.status)).toEqual(
            Array.from({ length: SIZE }, (_, i) => (i === failed ? 400 : 200)),
          );
        }
      });
    }

    it(`groupIdentify (${mode}): a /groups refusal at position i fails item i only`, async () => {
      for (let failed = 0; failed < SIZE; failed++) {
        let request = 0;
        intercept(
          host,
          'groups',
          [],
          () =>
            request++ === failed ? [200, { status: 0, error: 'refused' }] : [200, { status: 1, error: null }],
          SIZE,
        );
        const integration = testDestination();
        await integration.testBatchAction('groupIdentify', {
          events: Array.from({ length: SIZE }, (_, i) => ({
            type: 'group' as const,
            messageId: `g-${i}`,
            timestamp: T,
            userId: null,
            anonymousId: `d-${i}`,
            groupId: `acme-${i}`,
            traits: { name: `Acme ${i}` },
          })),
          settings,
          useDefaultMappings: true,
        });
        expect(integration.results[0]?.multistatus?.map((r) => r.status)).toEqual(
          Array.from({ length: SIZE }, (_, i) => (i === failed ? 400 : 200)),
        );
      }
    });
  }
});

describe('every action goes to the chosen region, in both APIs', () => {
  const ANON = '2f1d9f3e-6b7a-4c1e-9d2a-0b5c8e7f6a39';
  /** A call per action and the endpoints it reaches. */
  const cases: Array<[string, Record<string, unknown>, Array<'import' | 'engage' | 'groups'>]> = [
    ['trackEvent', { type: 'track', event: 'Played', userId: 'u-1', anonymousId: ANON }, ['import']],
    [
      'identifyUser',
      { type: 'identify', userId: 'u-1', anonymousId: ANON, traits: { plan: 'pro' } },
      ['import', 'engage'],
    ],
    ['alias', { type: 'alias', userId: 'u-1', previousId: ANON, anonymousId: ANON }, ['import']],
    [
      'groupIdentify',
      { type: 'group', userId: 'u-1', groupId: 'acme', traits: { name: 'Acme' } },
      ['groups', 'engage'],
    ],
    ['profileOperations', { type: 'identify', userId: 'u-1', traits: { plan: 'pro' } }, ['engage']],
  ];
  for (const region of ['us', 'eu', 'in'] as const) {
    for (const base of [SIMPLIFIED, ORIGINAL]) {
      const settings: Settings = { ...base, region };
      it.each(cases)(`%s → ${region} (${base.id_merge_api})`, async (action, call, endpoints) => {
        const captured: Captured[] = [];
        for (const endpoint of endpoints) intercept(HOSTS[region], endpoint, captured);
        await testDestination().testAction(action, {
          event: { messageId: 'r-1', timestamp: T, ...call },
          settings,
          useDefaultMappings: true,
        });
        expect(captured.map((c) => c.path.split('?')[0]).sort()).toEqual(
          endpoints.map((e) => `/${e}`).sort(),
        );
        for (const request of captured.filter((c) => c.path.startsWith('/import'))) {
          expect(request.gzip).toBe(true);
          expect(request.path).toContain('project_id=4242');
        }
      });
    }
  }
});

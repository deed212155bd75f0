import { describe, expect, it } from 'vitest';
import type { Settings } from './settings.js';
import {
  HOSTS,
  intercept,
  ORIGINAL,
  SIMPLIFIED,
  T,
  testDestination,
  useNock,
  type Captured,
} from './test-support.js';

useNock();

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

import { describe, expect, it } from 'vitest';
import { APIError, RetryableError } from '../../actions-core.js';
import {
  HOSTS,
  intercept,
  ORIGINAL,
  SIMPLIFIED,
  testDestination,
  useNock,
  type Captured,
} from '../../test-support.js';
import type { ProfileOperationsPayload } from './fields.js';
import { profileOperationsInput } from './index.js';

useNock();

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

describe('Profile Operations payload', () => {
  it('is typed by its fields; every operation reaches the mapping layer, batching settings do not', () => {
    const payload: ProfileOperationsPayload = {
      user_id: 'u-1',
      ip: '10.0.0.1',
      set: { plan: 'pro' },
      set_once: { first: 1 },
      add: { logins: 1 },
      union: { tags: ['a'] },
      append: { seen: 'x' },
      remove: { tags: 'b' },
      unset: ['legacy'],
      enable_batching: true,
      batch_size: 10,
    };
    const { enable_batching: _batching, batch_size: _size, ...operations } = payload;
    expect(profileOperationsInput(payload)).toEqual(operations);
    // @ts-expect-error unset is a list of names, not one name
    const wrong: ProfileOperationsPayload = { user_id: 'u-1', unset: 'legacy' };
    expect(wrong).toBeDefined();
  });
});

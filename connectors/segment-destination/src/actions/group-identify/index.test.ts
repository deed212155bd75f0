import { describe, expect, it } from 'vitest';
import {
  HOSTS,
  intercept,
  ORIGINAL,
  SIMPLIFIED,
  T,
  testDestination,
  useNock,
  type Captured,
} from '../../test-support.js';
import type { GroupIdentifyPayload } from './fields.js';
import { groupCall } from './index.js';

useNock();

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

describe('Group Identify payload', () => {
  it('is typed by its fields (group_id required); the builder writes the Segment call', () => {
    const payload: GroupIdentifyPayload = { group_id: 'acme', user_id: 'u-1', traits: { name: 'Acme' } };
    expect(groupCall(payload)).toEqual({
      type: 'group',
      groupId: 'acme',
      userId: 'u-1',
      traits: { name: 'Acme' },
    });
    // @ts-expect-error a misspelt field is no field of the action: it does not compile
    const misspelt: GroupIdentifyPayload = { group_id: 'acme', groupId: 'acme' };
    expect(misspelt).toBeDefined();
  });
});

import { describe, expect, it } from 'vitest';
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
import type { AliasPayload } from './fields.js';
import { aliasCall } from './index.js';

useNock();

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

describe('Alias payload', () => {
  it('is typed by its fields (previous_id required); the builder writes the Segment call', () => {
    const payload: AliasPayload = { previous_id: 'd-1', user_id: 'u-1', anonymous_id: null, timestamp: T };
    expect(aliasCall(payload)).toEqual({ type: 'alias', previousId: 'd-1', userId: 'u-1', timestamp: T });
    // @ts-expect-error previous_id is required: a payload without it does not compile
    const incomplete: AliasPayload = { user_id: 'u-1' };
    expect(incomplete).toBeDefined();
  });
});

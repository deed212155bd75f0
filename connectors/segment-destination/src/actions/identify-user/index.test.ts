import { describe, expect, it } from 'vitest';
import {
  ANON_UUID,
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
import type { IdentifyUserPayload } from './fields.js';
import { identifyCall } from './index.js';

useNock();

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

describe('Identify User payload', () => {
  it('is typed by its fields; the builder writes the Segment call field for field', () => {
    const payload: IdentifyUserPayload = {
      user_id: 'u-1',
      anonymous_id: 'd-1',
      message_id: 'id-1',
      timestamp: T,
      traits: { plan: 'pro' },
    };
    expect(identifyCall(payload)).toEqual({
      type: 'identify',
      userId: 'u-1',
      anonymousId: 'd-1',
      messageId: 'id-1',
      timestamp: T,
      traits: { plan: 'pro' },
    });
    // @ts-expect-error a misspelt field is no field of the action: it does not compile
    const misspelt: IdentifyUserPayload = { trait: {} };
    expect(misspelt).toBeDefined();
  });
});

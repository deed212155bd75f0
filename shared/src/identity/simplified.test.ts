import { describe, expect, it } from 'vitest';
import { SIMPLIFIED_IDENTITY_EVENT_MESSAGE } from '../validation/index.js';
import { createIdentityModel } from './index.js';
import { TEST_NOW, testEvent } from './test-events.js';

const model = () => createIdentityModel('simplified', { nowMs: TEST_NOW });

describe('Simplified ID Merge', () => {
  it('derives distinct_id: $user_id, else $device:<device>, else distinct_id as sent; $user_id overrides distinct_id', () => {
    const m = model();
    const outcomes = m.ingestMany([
      testEvent('A', { $device_id: 'D1', $user_id: 'U1', distinct_id: 'X' }),
      testEvent('A', { $device_id: 'D2', distinct_id: 'X' }),
      testEvent('A', { distinct_id: 'X' }),
      testEvent('A', { $device_id: 'D3', $user_id: '' }),
    ]);
    expect(outcomes.map((o) => (o.status === 'accepted' ? o.ingestedDistinctId : o.status))).toEqual([
      'U1',
      '$device:D2',
      'X',
      '$device:D3',
    ]);
  });

  it('treats a distinct_id starting with $device: as a device and links it later', () => {
    const m = model();
    m.ingest(testEvent('A', { distinct_id: '$device:D1' }));
    m.ingest(testEvent('B', { $device_id: 'D1', $user_id: 'U1' }));
    expect(m.currentDistinctId(0)).toBe('U1');
    expect(m.clusters()).toEqual([{ distinct_id: 'U1', members: ['$device:D1', 'U1'] }]);
  });

  it('never merges two user IDs, even through a shared device', () => {
    const m = model();
    m.ingest(testEvent('A', { $device_id: 'D1', $user_id: 'U1' }));
    const second = m.ingest(testEvent('A', { $device_id: 'D1', $user_id: 'U2' }));
    expect(second).toMatchObject({
      status: 'accepted',
      ingestedDistinctId: 'U2',
      failureReason: 'errAnonDistinctIdAssignedAlready',
    });
    expect(m.canonicalOf('U2')).toBe('U2');
    expect(m.canonicalOf('$device:D1')).toBe('U1');
  });

  it('does not fail when the same device and user are linked again', () => {
    const m = model();
    m.ingest(testEvent('A', { $device_id: 'D1', $user_id: 'U1' }));
    expect(m.ingest(testEvent('B', { $device_id: 'D1', $user_id: 'U1' }))).not.toHaveProperty(
      'failureReason',
    );
  });

  it('rejects identity events in strict mode with Mixpanel’s message, and links nothing', () => {
    const m = model();
    const outcome = m.ingest(
      testEvent('$identify', { distinct_id: 'U1', $identified_id: 'U1', $anon_id: 'D1' }),
    );
    expect(outcome).toEqual({
      status: 'rejected',
      violations: [{ field: 'event', message: SIMPLIFIED_IDENTITY_EVENT_MESSAGE }],
    });
    expect(m.clusters()).toEqual([]);
  });

  it('not strict (/track, plain /import): an identity event is an ordinary event with its IDs', () => {
    const m = model();
    const outcome = m.ingest(
      testEvent('$identify', { $device_id: 'D1', $user_id: 'U1', $identified_id: 'U9', $anon_id: 'D9' }),
      { strict: false },
    );
    expect(outcome).toMatchObject({ status: 'accepted', ingestedDistinctId: 'U1' });
    expect(m.clusters()).toEqual([{ distinct_id: 'U1', members: ['$device:D1', 'U1'] }]);
  });

  it('not strict: an event without $insert_id is taken and never deduplicated; strict refuses it', () => {
    const m = model();
    const keyless = { event: 'A', properties: { time: 1763800000, $device_id: 'D1' } };
    expect(m.ingest(keyless, { strict: false }).status).toBe('accepted');
    expect(m.ingest(keyless, { strict: false }).status).toBe('accepted');
    expect(m.ingest(keyless)).toMatchObject({
      status: 'rejected',
      violations: [{ field: 'properties.$insert_id' }],
    });
    const keyed = { event: 'A', properties: { ...keyless.properties, $insert_id: 'k1' } };
    expect(m.ingest(keyed, { strict: false }).status).toBe('accepted');
    expect(m.ingest(keyed, { strict: false }).status).toBe('duplicate');
    expect(m.stats()).toMatchObject({ events: 3, duplicates: 1 });
  });

  it('without validation stores identity events under their distinct_id but creates no link', () => {
    const m = createIdentityModel('simplified', { validate: false });
    m.ingest(testEvent('$merge', { distinct_id: 'U1', $distinct_ids: ['U1', 'U2'] }));
    expect(m.clusters()).toEqual([{ distinct_id: 'U1', members: ['U1'] }]);
  });

  it('rejects invalid IDs and keeps them out of every cluster', () => {
    const m = model();
    const outcome = m.ingest(testEvent('A', { $device_id: 'D1', $user_id: 'undefined' }));
    expect(outcome.status).toBe('rejected');
    expect(m.clusters()).toEqual([]);
  });

  it('counts duplicates (same event, distinct_id, time, $insert_id) and gives them no identity effect', () => {
    const m = model();
    const link = testEvent('Logged In', { $device_id: 'D1', $user_id: 'U1' });
    m.ingest(link);
    expect(m.ingest(link)).toEqual({ status: 'duplicate', ingestedDistinctId: 'U1' });
    expect(m.stats()).toMatchObject({ events: 1, duplicates: 1 });
  });

  it('drops events with a truthy $ignore silently and counts them', () => {
    const m = model();
    expect(m.ingest(testEvent('A', { $device_id: 'D1', $ignore: true }))).toEqual({ status: 'ignored' });
    expect(m.ingest(testEvent('A', { $device_id: 'D2', $ignore: false })).status).toBe('accepted');
    expect(m.stats()).toMatchObject({ events: 1, ignored: 1 });
  });

  it('keeps an empty distinct_id out of the clusters (Mixpanel leaves it out of user analysis)', () => {
    const m = model();
    expect(m.ingest(testEvent('A', { distinct_id: '' })).status).toBe('accepted');
    expect(m.currentDistinctId(0)).toBe('');
    expect(m.clusters()).toEqual([]);
  });

  it('has no cluster size limit', () => {
    const m = model();
    for (let i = 0; i < 600; i++) m.ingest(testEvent('A', { $device_id: `D${i}`, $user_id: 'U1' }));
    expect(m.clusterSizeOf('U1')).toBe(601);
  });

  it('reports stored events by index and refuses indexes it does not hold', () => {
    const m = model();
    m.ingest(testEvent('A', { $device_id: 'D1' }));
    expect(() => m.currentDistinctId(1)).toThrow(/no stored event with index 1/);
  });
});

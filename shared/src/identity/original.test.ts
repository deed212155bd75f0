import { describe, expect, it } from 'vitest';
import { createIdentityModel, MAX_CLUSTER_IDS } from './index.js';
import { TEST_NOW, testEvent } from './test-events.js';

const A1 = '3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
const A2 = '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d';
const model = () => createIdentityModel('original', { nowMs: TEST_NOW });
const identify = (user: string, anon: string) =>
  testEvent('$identify', { distinct_id: user, $identified_id: user, $anon_id: anon });

function uuid(i: number): string {
  const hex = i.toString(16).padStart(12, '0');
  return `00000000-0000-4000-8000-${hex}`;
}

describe('Original ID Merge', () => {
  it('keeps distinct_id as sent and ignores $device_id/$user_id', () => {
    const m = model();
    m.ingest(testEvent('A', { distinct_id: 'X', $device_id: 'D1', $user_id: 'U1' }));
    expect(m.clusters()).toEqual([{ distinct_id: 'X', members: ['X'] }]);
  });

  it('not strict (/track): $identify still links, and a keyless $identify is never a duplicate', () => {
    const m = model();
    const { $insert_id: _dropped, ...keyless } = identify('U1', A1).properties;
    const event = { event: '$identify', properties: keyless };
    expect(m.ingest(event, { strict: false })).toMatchObject({ status: 'accepted' });
    expect(m.ingest(event, { strict: false })).toMatchObject({ status: 'accepted' });
    expect(m.clusters()).toEqual([{ distinct_id: 'U1', members: [A1, 'U1'] }]);
  });

  it('$identify checks in order: same IDs first, even for a non-UUID', () => {
    const m = model();
    expect(m.ingest(identify('same', 'same'))).toMatchObject({ failureReason: 'errSameIDs' });
  });

  it('$identify fails for a non-UUID anonymous ID and the anonymous ID stays unknown', () => {
    const m = model();
    const outcome = m.ingest(identify('U1', 'not-a-uuid'));
    expect(outcome).toMatchObject({
      status: 'accepted',
      failureReason: 'errAnonDistinctIdNonGUIDForm',
      failureDescription: expect.stringContaining('UUID v4'),
    });
    expect(m.canonicalOf('not-a-uuid')).toBeUndefined();
  });

  it('$identify fails when the anonymous ID was already merged through an earlier $identify', () => {
    const m = model();
    m.ingest(identify('U1', A1));
    expect(m.ingest(identify('U2', A1))).toMatchObject({ failureReason: 'errAnonDistinctIdAssignedAlready' });
    expect(m.canonicalOf('U2')).toBe('U2');
    expect(m.canonicalOf(A1)).toBe('U1');
  });

  it('$identify with no distinct_id is stored under $identified_id', () => {
    const m = model();
    const outcome = m.ingest(testEvent('$identify', { $identified_id: 'U1', $anon_id: A1 }));
    expect(outcome).toMatchObject({ ingestedDistinctId: 'U1' });
  });

  it('$create_alias merges and an alias can be used once', () => {
    const m = model();
    m.ingest(testEvent('$create_alias', { distinct_id: A1, alias: 'U1' }));
    expect(m.canonicalOf('U1')).toBe(A1);
    expect(m.ingest(testEvent('$create_alias', { distinct_id: A2, alias: 'U1' }))).toMatchObject({
      failureReason: 'errAliasAlreadyExists',
    });
  });

  it('$merge joins two identified users, stored under the first ID, keeping the first canonical', () => {
    const m = model();
    m.ingest(identify('U1', A1));
    m.ingest(identify('U2', A2));
    const outcome = m.ingest(testEvent('$merge', { $distinct_ids: ['U2', 'U1'] }));
    expect(outcome).toMatchObject({ ingestedDistinctId: 'U2' });
    expect(m.clusters()).toEqual([{ distinct_id: 'U2', members: [A1, A2, 'U1', 'U2'] }]);
  });

  it('allows a cluster of exactly 500 IDs and refuses the 501st', () => {
    const m = model();
    for (let i = 1; i < MAX_CLUSTER_IDS; i++) {
      expect(m.ingest(identify('U1', uuid(i)))).not.toHaveProperty('failureReason');
    }
    expect(m.clusterSizeOf('U1')).toBe(500);
    const over = m.ingest(identify('U1', uuid(9999)));
    expect(over).toMatchObject({ failureReason: 'errManyIDs' });
    expect(m.clusterSizeOf('U1')).toBe(500);
    expect(m.canonicalOf(uuid(9999))).toBeUndefined();
  });

  it('counts an unknown ID as a cluster of one for the cap, for $merge and $create_alias too', () => {
    const m = model();
    for (let i = 1; i < MAX_CLUSTER_IDS; i++) m.ingest(identify('U1', uuid(i)));
    expect(
      m.ingest(testEvent('$merge', { distinct_id: 'U1', $distinct_ids: ['U1', 'brand-new'] })),
    ).toMatchObject({
      failureReason: 'errManyIDs',
    });
    expect(m.ingest(testEvent('$create_alias', { distinct_id: 'U1', alias: 'other' }))).toMatchObject({
      failureReason: 'errManyIDs',
    });
  });

  it('merging two IDs already in one cluster changes nothing and does not fail at the cap', () => {
    const m = model();
    for (let i = 1; i < MAX_CLUSTER_IDS; i++) m.ingest(identify('U1', uuid(i)));
    expect(
      m.ingest(testEvent('$merge', { distinct_id: 'U1', $distinct_ids: ['U1', uuid(1)] })),
    ).not.toHaveProperty('failureReason');
  });

  it('attributes earlier and later events retroactively to the canonical ID', () => {
    const m = model();
    m.ingest(testEvent('Before', { distinct_id: A1 }));
    m.ingest(identify('U1', A1));
    m.ingest(testEvent('After', { distinct_id: A1 }));
    expect([0, 1, 2].map((i) => m.currentDistinctId(i))).toEqual(['U1', 'U1', 'U1']);
    expect(m.ingestedDistinctId(2)).toBe(A1);
  });

  it('rejects a $merge that does not name exactly two IDs', () => {
    const m = model();
    expect(m.ingest(testEvent('$merge', { distinct_id: 'U1', $distinct_ids: ['U1'] }))).toMatchObject({
      status: 'rejected',
      violations: [{ field: 'properties.$distinct_ids' }],
    });
  });

  it('$identify in the SDK form (distinct_id + $anon_distinct_id) merges like the documented form', () => {
    const m = model();
    m.ingest(testEvent('Viewed', { distinct_id: A1 }));
    const outcome = m.ingest(testEvent('$identify', { distinct_id: 'U1', $anon_distinct_id: A1 }));
    expect(outcome).toMatchObject({ status: 'accepted', ingestedDistinctId: 'U1' });
    expect(outcome).not.toHaveProperty('failureReason');
    expect(m.canonicalOf(A1)).toBe('U1');
  });

  it('$identify: where both forms are present, $identified_id and $anon_id win', () => {
    const m = model();
    m.ingest(
      testEvent('$identify', {
        distinct_id: 'U1',
        $identified_id: 'U2',
        $anon_distinct_id: A2,
        $anon_id: A1,
      }),
    );
    expect(m.canonicalOf(A1)).toBe('U2');
    expect(m.canonicalOf(A2)).toBeUndefined();
  });

  it('$identify accepts $device:<UUID v4> as UUID form, and only a UUID v4 after the prefix', () => {
    const m = model();
    expect(m.ingest(identify('U1', `$device:${A1}`))).not.toHaveProperty('failureReason');
    expect(m.canonicalOf(`$device:${A1}`)).toBe('U1');
    expect(m.ingest(identify('U2', '$device:D1'))).toMatchObject({
      failureReason: 'errAnonDistinctIdNonGUIDForm',
    });
    expect(m.ingest(identify('U3', `$device:$device:${A2}`))).toMatchObject({
      failureReason: 'errAnonDistinctIdNonGUIDForm',
    });
  });
});

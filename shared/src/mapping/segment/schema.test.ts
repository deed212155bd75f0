import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPlainSegmentCall, segmentCallSchema } from './schema.js';

/** Values of every kind the schema's fields meet, valid for them or not. */
const anyValue = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.constantFrom('', 'track', 'identify', 'page', 'screen', 'alias', 'group', 'TRACK'),
  fc.integer(),
  fc.double(),
  fc.constantFrom(null, undefined, true, Number.NaN, Number.POSITIVE_INFINITY, 12n),
  fc.date(),
  fc.constant([]),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 3 }),
  fc.constant(Object.create(null) as Record<string, unknown>),
);
const FIELDS = [
  'type',
  'messageId',
  'anonymousId',
  'userId',
  'timestamp',
  'originalTimestamp',
  'receivedAt',
  'sentAt',
  'context',
  'traits',
  'properties',
  'event',
  'name',
  'category',
  'previousId',
  'groupId',
  'other',
] as const;
/** Per field: absent, a value the schema passes on as it is, or anything at all (now and then). */
function fieldValue(field: (typeof FIELDS)[number]) {
  const plain =
    field === 'type'
      ? fc.constantFrom('track', 'identify', 'page', 'screen', 'alias', 'group')
      : field === 'context' || field === 'traits' || field === 'properties'
        ? fc.constant({ a: '1' })
        : fc.string({ maxLength: 4 });
  return fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 3 },
    { arbitrary: plain, weight: 6 },
    anyValue,
  );
}
const callLike = fc.record(Object.fromEntries(FIELDS.map((field) => [field, fieldValue(field)])), {
  requiredKeys: [],
});

describe('calls read as they are, without the schema', () => {
  it('only calls the schema accepts and gives back unchanged', () => {
    let plain = 0;
    fc.assert(
      fc.property(callLike, (call) => {
        if (!isPlainSegmentCall(call)) return;
        plain++;
        const parsed = segmentCallSchema.safeParse(call);
        expect(parsed.success).toBe(true);
        expect(parsed.data).toStrictEqual({ ...call });
      }),
      { numRuns: 20_000 },
    );
    // The runs include plain calls, not only ones left to the schema.
    expect(plain).toBeGreaterThan(100);
  });

  it('an analytics-node call is one of them; an ID sent as a number or a Date time is not', () => {
    const call = {
      type: 'track',
      event: 'Signed Up',
      properties: { plan: 'pro' },
      anonymousId: 'device-1',
      userId: null,
      timestamp: '2026-12-01T00:00:00.000Z',
      context: { library: { name: '@segment/analytics-node', version: '3.1.0' } },
      integrations: {},
      messageId: 'node-next-1-abc',
      _metadata: { jsRuntime: 'node' },
    };
    expect(isPlainSegmentCall(call)).toBe(true);
    expect(isPlainSegmentCall({ ...call, userId: 42 })).toBe(false);
    expect(isPlainSegmentCall({ ...call, timestamp: new Date() })).toBe(false);
    expect(isPlainSegmentCall({ ...call, type: 'Track' })).toBe(false);
    expect(isPlainSegmentCall({ ...call, properties: [] })).toBe(false);
  });
});

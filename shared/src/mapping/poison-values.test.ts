import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_VALUE_DEPTH } from '../validation/index.js';
import { flatRowToEvent } from './flat-row.js';
import type { MappingResult } from './issues.js';
import { mapProfileOperations } from './profile-operations.js';
import { mapSegmentCall } from './segment/map-call.js';
import { columnMappingSchema, type ColumnMappingInput } from './warehouse/column-mapping.js';
import { mapWarehouseRow } from './warehouse/map-row.js';

const NOW = Date.UTC(2026, 0, 1);
const TIME = 1763800000;
const UUID = '2f1d9f3e-6b7a-4c1e-9d2a-0b5c8e7f6a31';

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}
/** What JSON.parse gives for `"x\ud800"`: a string that cannot be encoded as UTF-8. */
const LONE = JSON.parse('"x\\ud800"') as string;
const DEEP = nested(5000);

const mappings: Record<string, ColumnMappingInput> = {
  events: { type: 'events', event: 'name', time: 'at', device_id: 'device', user_id: 'user' },
  identities: { type: 'identities', device_id: 'device', user_id: 'user', time: 'at' },
  original: { type: 'identities', device_id: 'device', user_id: 'user', time: 'at' },
  profiles: { type: 'profiles', user_id: 'user' },
};
const row = (kind: keyof typeof mappings, values: Record<string, unknown>) =>
  mapWarehouseRow(
    { id: 'r1', name: 'Played', at: TIME, device: UUID, user: 'U1', ...values },
    columnMappingSchema.parse(mappings[kind]),
    { mode: kind === 'original' ? 'original' : 'simplified', keyColumns: ['id'], nowMs: NOW },
  );
const call = (values: Record<string, unknown>, mode: 'simplified' | 'original' = 'simplified') =>
  mapSegmentCall(
    {
      type: 'track',
      event: 'A',
      userId: 'U1',
      anonymousId: UUID,
      messageId: 'm1',
      timestamp: TIME,
      ...values,
    },
    { mode, nowMs: NOW },
  );
const flat = (record: unknown) => flatRowToEvent(record, { mode: 'simplified', index: 3, nowMs: NOW });
const shaped = (properties: Record<string, unknown>, event: unknown = 'A') =>
  flat({ event, properties: { time: TIME, distinct_id: 'U1', $insert_id: 'i1', ...properties } });

type Case = [label: string, run: () => MappingResult, field: string | RegExp, code: string | RegExp];

/** A bad time is refused by the call's schema, the time parser, or the value conversion. */
const BAD_TIME = /^(invalid_call|bad_time|invalid_date|too_deep|invalid_payload)$/;

const TIME_CASES: Array<[string, unknown]> = [
  ['1e20', 1e20],
  ['-1e20', -1e20],
  ['NaN', Number.NaN],
  ['Infinity', Number.POSITIVE_INFINITY],
  ['an invalid Date', new Date(Number.NaN)],
  ['February 30th', '2025-02-30T08:00:00Z'],
  ['month 13 without a zone', '2025-13-01 08:00:00'],
  ['25 o’clock', '2025-11-22T25:00:00Z'],
  ['a huge bigint', 10n ** 30n],
  ['an object holding a bigint', { at: 1n }],
  ['a list 5000 levels deep', DEEP],
];

const cases: Case[] = [
  ...TIME_CASES.flatMap(([label, at]): Case[] => [
    [`Segment timestamp ${label}`, () => call({ timestamp: at }), /^timestamp/, BAD_TIME],
    [`events row time ${label}`, () => row('events', { at }), /^at/, BAD_TIME],
    [`identities row time ${label}`, () => row('identities', { at }), /^at/, BAD_TIME],
    [`Original identities row time ${label}`, () => row('original', { at }), /^at/, BAD_TIME],
    [`import row time ${label}`, () => flat({ event: 'A', time: at, distinct_id: 'U1' }), /^time/, BAD_TIME],
    [`import shaped record time ${label}`, () => shaped({ time: at }), /^properties\.time/, BAD_TIME],
  ]),
  // Nesting far beyond anything Mixpanel keeps: refused alone, naming the place, no stack overflow.
  [
    'Segment property 5000 deep',
    () => call({ properties: { deep: DEEP } }),
    /^properties\.deep(\.a)+$/,
    'too_deep',
  ],
  [
    'Segment trait 5000 deep',
    () => call({ type: 'identify', traits: { deep: DEEP } }),
    /^traits\.deep/,
    'too_deep',
  ],
  [
    'Segment context 5000 deep',
    () => call({ context: { page: { url: DEEP } } }),
    /^context\.page\.url/,
    'too_deep',
  ],
  ['events row value 5000 deep', () => row('events', { deep: DEEP }), /^deep(\.a)+$/, 'too_deep'],
  ['profiles row value 5000 deep', () => row('profiles', { deep: DEEP }), /^deep(\.a)+$/, 'too_deep'],
  [
    'import row value 5000 deep',
    () => flat({ event: 'A', time: TIME, distinct_id: 'U1', deep: DEEP }),
    /^deep/,
    'too_deep',
  ],
  ['import shaped value 5000 deep', () => shaped({ deep: DEEP }), /^properties\.deep/, 'too_deep'],
  [
    'import shaped value 5000 deep, no $insert_id',
    () => flat({ event: 'A', properties: { time: TIME, distinct_id: 'U1', deep: DEEP } }),
    /^properties\.deep/,
    'too_deep',
  ],
  [
    'profile operation 5000 deep',
    () => mapProfileOperations({ user_id: 'U1', union: { deep: [DEEP] } }),
    /^union\.deep\[0\]/,
    'too_deep',
  ],
  // Strings that cannot be encoded as UTF-8.
  [
    'Segment property with a lone surrogate',
    () => call({ properties: { q: LONE } }),
    'properties.q',
    'invalid_payload',
  ],
  ['Segment event name with a lone surrogate', () => call({ event: LONE }), 'event', 'invalid_payload'],
  [
    'Segment userId with a lone surrogate',
    () => call({ userId: LONE }),
    'properties.$user_id',
    'invalid_payload',
  ],
  [
    'Segment trait with a lone surrogate',
    () => call({ type: 'identify', traits: { plan: LONE } }),
    '$set.plan',
    'invalid_payload',
  ],
  [
    'Segment group trait name with a lone surrogate',
    () => call({ type: 'group', groupId: 'g1', traits: { [LONE]: 1 } }),
    `$set.${LONE}`,
    'invalid_payload',
  ],
  [
    'profiles row with a lone surrogate',
    () => row('profiles', { plan: LONE }),
    '$set.plan',
    'invalid_payload',
  ],
  [
    'profiles row user with a lone surrogate',
    () => row('profiles', { user: LONE }),
    '$distinct_id',
    'invalid_payload',
  ],
  ['import shaped value with a lone surrogate', () => shaped({ q: LONE }), 'properties.q', 'invalid_payload'],
  // Values JSON cannot hold, and dates no Date can hold.
  [
    'events row with an invalid Date',
    () => row('events', { seen: new Date(Number.NaN) }),
    'seen',
    'invalid_date',
  ],
  [
    'Segment property with an invalid Date',
    () => call({ properties: { list: [new Date(Number.NaN)] } }),
    'properties.list[0]',
    'invalid_date',
  ],
  [
    'import shaped value with a nested invalid Date',
    () => shaped({ seen: { at: new Date(Number.NaN) } }),
    'properties.seen.at',
    'invalid_date',
  ],
];

describe('poison values are refused alone: the mapping layer never throws on a value', () => {
  it.each(cases)('%s', (_label, run, field, code) => {
    let result: MappingResult | undefined;
    expect(() => (result = run())).not.toThrow();
    expect(result?.ok).toBe(false);
    if (result === undefined || result.ok) return;
    const match = result.errors.find(
      (e) =>
        (typeof code === 'string' ? e.code === code : code.test(e.code)) &&
        (typeof field === 'string' ? e.field === field : field.test(e.field)),
    );
    expect(match, JSON.stringify(result.errors).slice(0, 500)).toBeDefined();
    expect(match?.message.length).toBeGreaterThan(10);
    expect(match?.record).toMatch(/^(message m1|row id=r1|index 3|user U1)$/);
  });

  it('a value nested up to the bound is left to validation, which names the first level too deep', () => {
    const result = call({ properties: { deep: nested(MAX_VALUE_DEPTH - 1) } });
    expect(result).toMatchObject({
      ok: false,
      errors: [{ code: 'invalid_payload', field: 'properties.deep.a.a.a' }],
    });
  });

  it('nested bigints and Dates (as Parquet gives them) are converted, in shaped records too', () => {
    const result = shaped({ cart: { items: [{ qty: 3n, at: new Date(TIME * 1000) }] }, big: 2n ** 70n });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.sameAsInput).toBeUndefined();
    expect(result.payloads[0]?.body).toMatchObject({
      properties: {
        cart: { items: [{ qty: 3, at: new Date(TIME * 1000).toISOString() }] },
        big: (2n ** 70n).toString(),
      },
    });
    // No $insert_id: the record is still identified, from its raw values.
    const derived = flat({ event: 'A', properties: { time: TIME, distinct_id: 'U1', cart: { qty: 3n } } });
    expect(derived.ok && derived.payloads[0]?.body).toMatchObject({
      properties: { $insert_id: expect.stringMatching(/^[0-9a-f]{32}$/) },
    });
  });

  it('a page name with replacement patterns is kept as written', () => {
    const result = call({ type: 'page', name: "$& and $' and $1" });
    expect(result.ok && result.payloads[0]?.body).toMatchObject({ event: "Viewed $& and $' and $1" });
  });

  it('any value in any field: a result, never a throw, and every payload can be written as JSON', () => {
    const value = fc.anything({
      maxDepth: 4,
      withBigInt: true,
      withDate: true,
      withNullPrototype: true,
      withSparseArray: true,
      withTypedArray: true,
      withMap: true,
      withSet: true,
      withBoxedValues: true,
    });
    const runs: Array<(v: unknown) => MappingResult> = [
      (v) => call({ properties: { v }, traits: { v } }),
      (v) => call({ type: 'identify', traits: { v }, context: { page: { url: v }, traits: v } }),
      (v) => call({ anonymousId: v, userId: v, timestamp: v }, 'original'),
      (v) => call({ type: 'group', groupId: v, traits: { v } }),
      (v) => call({ type: 'alias', previousId: v }),
      (v) => row('events', { v, at: v }),
      (v) => row('events', { v, device: v, user: v }),
      (v) => row('original', { device: v }),
      (v) => row('profiles', { v, user: v }),
      (v) => flat({ event: 'A', time: TIME, distinct_id: 'U1', v }),
      (v) => flat({ event: v, properties: { time: v, distinct_id: v, v } }),
      (v) => shaped({ v }),
      (v) => mapProfileOperations({ user_id: 'U1', set: { v }, add: { v }, union: { v } }),
    ];
    fc.assert(
      fc.property(value, fc.nat(runs.length - 1), (v, which) => {
        const result = (runs[which] as (v: unknown) => MappingResult)(v);
        if (!result.ok) {
          for (const error of result.errors) expect(error.code).not.toBe('unmappable_value');
          return;
        }
        for (const payload of result.payloads) expect(() => JSON.stringify(payload.body)).not.toThrow();
      }),
      { numRuns: 3000 },
    );
  });
});

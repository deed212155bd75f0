import { describe, expect, it } from 'vitest';
import { flatRowToEvent } from './flat-row.js';
import type { MappingResult } from './issues.js';
import { mapSegmentCall } from './segment/map-call.js';
import type { ColumnMappingInput } from './warehouse/column-mapping.js';
import { columnMappingSchema } from './warehouse/column-mapping.js';
import { mapWarehouseRow } from './warehouse/map-row.js';

const NOW = Date.UTC(2026, 0, 1);
const TS = '2025-11-22T08:00:00Z';
const ok = { messageId: 'm-1', timestamp: TS };

const segment = (call: unknown, mode: 'simplified' | 'original' = 'simplified') =>
  mapSegmentCall(call, { mode, nowMs: NOW });

const events: ColumnMappingInput = {
  type: 'events',
  event: 'name',
  time: 'at',
  time_zone: 'UTC',
  device_id: 'device',
  user_id: 'user',
  insert_id: 'id',
};
const identities: ColumnMappingInput = {
  type: 'identities',
  device_id: 'device',
  user_id: 'user',
  time: 'at',
  time_zone: 'UTC',
};
const profiles: ColumnMappingInput = { type: 'profiles', user_id: 'user' };
const row = (
  mapping: ColumnMappingInput,
  values: Record<string, unknown>,
  mode: 'simplified' | 'original' = 'simplified',
) => mapWarehouseRow(values, columnMappingSchema.parse(mapping), { mode, keyColumns: ['id'], nowMs: NOW });
const goodRow = { id: 'r1', name: 'Played', at: '2025-11-22 08:00:00', device: 'D1', user: 'U1' };

const flat = (record: unknown) => flatRowToEvent(record, { mode: 'simplified', index: 7, nowMs: NOW });

type BadCase = [
  label: string,
  result: () => MappingResult,
  field: string | RegExp,
  code: string,
  message?: RegExp,
];

const corpus: BadCase[] = [
  // Segment calls
  ['call that is not an object', () => segment('identify'), 'call', 'invalid_call'],
  ['call with an unknown type', () => segment({ ...ok, type: 'purchase' }), 'type', 'invalid_call'],
  ['call with no type', () => segment({ ...ok, event: 'A' }), 'type', 'invalid_call'],
  [
    'track with no event name',
    () => segment({ ...ok, type: 'track', anonymousId: 'D1' }),
    'event',
    'no_event_name',
  ],
  [
    'track with a blank event name',
    () => segment({ ...ok, type: 'track', event: ' ', anonymousId: 'D1' }),
    'event',
    'no_event_name',
  ],
  [
    'track with an event name that is not text',
    () => segment({ ...ok, type: 'track', event: 5, anonymousId: 'D1' }),
    'event',
    'invalid_call',
  ],
  [
    'track with no IDs at all',
    () => segment({ ...ok, type: 'track', event: 'A' }),
    'userId',
    'no_identity',
    /neither a userId nor an anonymousId/,
  ],
  [
    'track with empty IDs',
    () => segment({ ...ok, type: 'track', event: 'A', userId: '', anonymousId: '  ' }),
    'userId',
    'no_identity',
  ],
  ['page with no IDs', () => segment({ ...ok, type: 'page', name: 'Home' }), 'userId', 'no_identity'],
  [
    'identify with no IDs',
    () => segment({ ...ok, type: 'identify', traits: { a: 1 } }),
    'userId',
    'no_identity',
  ],
  [
    'track with an invalid anonymousId',
    () => segment({ ...ok, type: 'track', event: 'A', anonymousId: 'undefined' }),
    'properties.$device_id',
    'invalid_payload',
    /invalid IDs/,
  ],
  [
    'track with an invalid userId',
    () => segment({ ...ok, type: 'track', event: 'A', userId: 'null' }),
    'properties.$user_id',
    'invalid_payload',
  ],
  [
    'track with a userId of 0',
    () => segment({ ...ok, type: 'track', event: 'A', userId: 0 }),
    'properties.$user_id',
    'invalid_payload',
  ],
  [
    'Original track with an invalid userId',
    () => segment({ ...ok, type: 'track', event: 'A', userId: 'anonymous' }, 'original'),
    'properties.distinct_id',
    'invalid_payload',
  ],
  [
    'userId that is an object',
    () => segment({ ...ok, type: 'track', event: 'A', userId: { id: 1 } }),
    'userId',
    'invalid_call',
  ],
  [
    'timestamp that is not a date',
    () => segment({ ...ok, type: 'track', event: 'A', anonymousId: 'D1', timestamp: 'yesterday' }),
    'timestamp',
    'bad_time',
  ],
  [
    'timestamp before 1971',
    () => segment({ ...ok, type: 'track', event: 'A', anonymousId: 'D1', timestamp: '1969-07-20T20:17:00Z' }),
    'timestamp',
    'bad_time',
    /before 1971/,
  ],
  [
    'timestamp two hours ahead',
    () => segment({ ...ok, type: 'track', event: 'A', anonymousId: 'D1', timestamp: '2026-01-01T02:00:00Z' }),
    'timestamp',
    'bad_time',
    /future/,
  ],
  [
    'timestamp without a zone',
    () => segment({ ...ok, type: 'track', event: 'A', anonymousId: 'D1', timestamp: '2025-11-22T08:00:00' }),
    'timestamp',
    'bad_time',
    /no time zone/,
  ],
  [
    'call with no timestamp at all',
    () => segment({ messageId: 'm', type: 'track', event: 'A', anonymousId: 'D1' }),
    'timestamp',
    'bad_time',
  ],
  [
    'alias with no previousId',
    () => segment({ ...ok, type: 'alias', userId: 'U1' }),
    'previousId',
    'incomplete_alias',
  ],
  [
    'alias with no userId',
    () => segment({ ...ok, type: 'alias', previousId: 'D1' }),
    'userId',
    'incomplete_alias',
  ],
  [
    'alias of an ID to itself',
    () => segment({ ...ok, type: 'alias', previousId: 'U1', userId: 'U1' }),
    'previousId',
    'alias_same_ids',
  ],
  [
    'Simplified alias joining two users',
    () => segment({ ...ok, type: 'alias', previousId: 'U0', userId: 'U1', anonymousId: 'D9' }),
    'previousId',
    'simplified_user_merge',
    /Simplified ID Merge/,
  ],
  [
    'group with no groupId',
    () => segment({ ...ok, type: 'group', userId: 'U1', traits: { a: 1 } }),
    'groupId',
    'no_group_id',
  ],
  [
    'group with an invalid groupId',
    () => segment({ ...ok, type: 'group', userId: 'U1', groupId: 'none', traits: { a: 1 } }),
    '$group_id',
    'invalid_payload',
  ],
  [
    'track with a property nested too deep',
    () =>
      segment({
        ...ok,
        type: 'track',
        event: 'A',
        anonymousId: 'D1',
        properties: { a: { b: { c: { d: { e: 1 } } } } },
      }),
    'properties.a.b.c.d',
    'invalid_payload',
  ],
  [
    'track with a list of 300 items',
    () =>
      segment({
        ...ok,
        type: 'track',
        event: 'A',
        anonymousId: 'D1',
        properties: { tags: Array.from({ length: 300 }, (_, i) => i) },
      }),
    'properties.tags',
    'invalid_payload',
  ],
  [
    'track with broken UTF-8',
    () => segment({ ...ok, type: 'track', event: 'A', anonymousId: 'D1', properties: { q: 'x\udc00' } }),
    'properties.q',
    'invalid_payload',
    /UTF-8/,
  ],
  [
    'track with 300 properties',
    () =>
      segment({
        ...ok,
        type: 'track',
        event: 'A',
        anonymousId: 'D1',
        properties: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`p${i}`, i])),
      }),
    'properties',
    'invalid_payload',
  ],
  [
    'track with a 9 KB object property',
    () =>
      segment({
        ...ok,
        type: 'track',
        event: 'A',
        anonymousId: 'D1',
        properties: { blob: { t: 'x'.repeat(9000) } },
      }),
    'properties.blob',
    'invalid_payload',
  ],
  [
    'track with a traits field that is a list',
    () => segment({ ...ok, type: 'identify', userId: 'U1', traits: ['a'] }),
    'traits',
    'invalid_call',
  ],
  // Warehouse rows
  [
    'events row with no event name',
    () => row(events, { ...goodRow, name: null }),
    'name',
    'missing_event_name',
  ],
  ['events row with a bad time', () => row(events, { ...goodRow, at: 'soon' }), 'at', 'bad_time'],
  [
    'events row with a time in 1900',
    () => row(events, { ...goodRow, at: '1900-01-01 00:00:00' }),
    'at',
    'bad_time',
  ],
  [
    'events row with an unknown time zone',
    () => row({ ...events, time_zone: 'Mars/Olympus' }, goodRow),
    'at',
    'bad_time',
    /unknown time zone/,
  ],
  [
    'events row with a zone-less time and no time_zone',
    () => row({ ...events, time_zone: undefined }, goodRow),
    'at',
    'bad_time',
    /time_zone/,
  ],
  [
    'events row with no IDs',
    () => row(events, { ...goodRow, device: null, user: '' }),
    'device, user',
    'no_identity',
  ],
  [
    'events row with an empty insert_id',
    () => row(events, { ...goodRow, id: null }),
    'id',
    'missing_insert_id',
  ],
  [
    'events row with an invalid user ID',
    () => row(events, { ...goodRow, user: 'N/A' }),
    'properties.$user_id',
    'invalid_payload',
  ],
  [
    'events row with an oversized value',
    () => row(events, { ...goodRow, payload: ['x'.repeat(9000)] }),
    'properties.payload',
    'invalid_payload',
  ],
  ['identities row with no user', () => row(identities, { ...goodRow, user: null }), 'user', 'missing_id'],
  [
    'identities row with no device',
    () => row(identities, { ...goodRow, device: undefined }),
    'device',
    'missing_id',
  ],
  [
    'identities row linking an ID to itself',
    () => row(identities, { ...goodRow, device: 'U1' }),
    'device',
    'same_ids',
  ],
  [
    'identities row with a bad time',
    () => row(identities, { ...goodRow, at: '2025-13-45T99:00:00Z' }),
    'at',
    'bad_time',
  ],
  ['profiles row with no user', () => row(profiles, { user: '' }), 'user', 'missing_id'],
  [
    'profiles row with an invalid user',
    () => row(profiles, { user: 'undefined', plan: 'pro' }),
    '$distinct_id',
    'invalid_payload',
  ],
  // Records of `idmerge import`
  ['import record that is a list', () => flat([1, 2]), '', 'not_an_object'],
  [
    'import record with no event',
    () => flat({ time: 1763800000, distinct_id: 'U1' }),
    'event',
    'missing_event_name',
  ],
  ['import record with no time', () => flat({ event: 'A', distinct_id: 'U1' }), 'time', 'bad_time'],
  [
    'Mixpanel-shaped record with a bad time',
    () => flat({ event: 'A', properties: { time: 'later', distinct_id: 'U1' } }),
    'properties.time',
    'bad_time',
  ],
  [
    'Mixpanel-shaped record with an empty name',
    () => flat({ event: '', properties: { time: 1763800000, distinct_id: 'U1' } }),
    'event',
    'invalid_payload',
  ],
  [
    'Mixpanel-shaped record with a bad $insert_id',
    () => flat({ event: 'A', properties: { time: 1763800000, distinct_id: 'U1', $insert_id: 'has space' } }),
    'properties.$insert_id',
    'invalid_payload',
  ],
];

describe('a corpus of bad inputs, each rejected with a precise reason', () => {
  it('holds at least 40 cases', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(40);
  });

  it.each(corpus)('%s', (_label, run, field, code, message) => {
    const result = run();
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const match = result.errors.find(
      (e) => (typeof field === 'string' ? e.field === field : field.test(e.field)) && e.code === code,
    );
    expect(match, JSON.stringify(result.errors)).toBeDefined();
    expect(match?.record).toMatch(/^(message m-1|message m|index 7|row id=.*|call)$/);
    expect(match?.message.length).toBeGreaterThan(10);
    if (message) expect(match?.message).toMatch(message);
  });
});

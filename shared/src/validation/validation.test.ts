import { describe, expect, it } from 'vitest';
import {
  INVALID_IDS,
  isInvalidId,
  isUuidV4,
  isValidInsertId,
  SIMPLIFIED_IDENTITY_EVENT_MESSAGE,
  validateEngageUpdate,
  validateEvent,
  validateGroupUpdate,
} from './index.js';

const NOW = Date.UTC(2026, 0, 1);
const base = { time: 1763800000, $insert_id: 'abc-1', $device_id: 'D1' };

function violationsOf(event: unknown, mode: 'simplified' | 'original' = 'simplified') {
  const result = validateEvent(event, { mode, nowMs: NOW });
  return result.ok ? [] : result.violations;
}

describe('ID rules', () => {
  it('recognises every invalid ID, trimmed and in any case', () => {
    for (const id of INVALID_IDS) expect(isInvalidId(` ${id.toUpperCase()} `)).toBe(true);
    expect(isInvalidId('user-42')).toBe(false);
  });

  it('knows a UUID v4 from other UUIDs', () => {
    expect(isUuidV4('3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d')).toBe(true);
    expect(isUuidV4('3f1b2c4d-5e6f-1a7b-8c9d-0e1f2a3b4c5d')).toBe(false);
    expect(isUuidV4('D1')).toBe(false);
  });

  it('accepts insert IDs of at most 36 characters of [A-Za-z0-9-]', () => {
    expect(isValidInsertId('a'.repeat(36))).toBe(true);
    expect(isValidInsertId('a'.repeat(37))).toBe(false);
    expect(isValidInsertId('a_b')).toBe(false);
    expect(isValidInsertId('null')).toBe(false);
  });
});

describe('validateEvent', () => {
  it('accepts a complete event and warns about strings Mixpanel truncates', () => {
    const result = validateEvent(
      { event: 'A', properties: { ...base, note: 'x'.repeat(300) } },
      { mode: 'simplified', nowMs: NOW },
    );
    expect(result).toEqual({
      ok: true,
      warnings: [{ field: 'properties.note', message: expect.stringContaining('truncates') }],
    });
  });

  it.each([
    ['not an object', 'nope', ''],
    ['no event name', { properties: base }, 'event'],
    ['blank event name', { event: '  ', properties: base }, 'event'],
    ['no properties', { event: 'A' }, 'properties'],
    ['no time', { event: 'A', properties: { ...base, time: undefined } }, 'properties.time'],
    ['time as a string', { event: 'A', properties: { ...base, time: '2025-01-01' } }, 'properties.time'],
    ['time before 1971', { event: 'A', properties: { ...base, time: 86400 } }, 'properties.time'],
    [
      'time two hours ahead',
      { event: 'A', properties: { ...base, time: (NOW + 2 * 3600_000) / 1000 } },
      'properties.time',
    ],
    [
      'no $insert_id',
      { event: 'A', properties: { ...base, $insert_id: undefined } },
      'properties.$insert_id',
    ],
    [
      '$insert_id with underscore',
      { event: 'A', properties: { ...base, $insert_id: 'a_b' } },
      'properties.$insert_id',
    ],
    [
      'no identity',
      { event: 'A', properties: { time: base.time, $insert_id: 'x1' } },
      'properties.distinct_id',
    ],
    [
      'invalid $device_id',
      { event: 'A', properties: { ...base, $device_id: 'anonymous' } },
      'properties.$device_id',
    ],
    ['numeric $user_id', { event: 'A', properties: { ...base, $user_id: 42 } }, 'properties.$user_id'],
    [
      'invalid distinct_id',
      { event: 'A', properties: { ...base, distinct_id: 'null' } },
      'properties.distinct_id',
    ],
    ['lone surrogate', { event: 'A', properties: { ...base, name: 'bad \ud800' } }, 'properties.name'],
    [
      'too deep',
      { event: 'A', properties: { ...base, a: { b: { c: { d: { e: 1 } } } } } },
      'properties.a.b.c.d',
    ],
    [
      'long list',
      { event: 'A', properties: { ...base, list: Array.from({ length: 255 }, (_, i) => i) } },
      'properties.list',
    ],
    [
      'big object',
      { event: 'A', properties: { ...base, blob: { text: 'y'.repeat(9000) } } },
      'properties.blob',
    ],
  ])('rejects %s', (_label, event, field) => {
    expect(violationsOf(event).map((v) => v.field)).toContain(field);
  });

  it('rejects 255 properties', () => {
    const props: Record<string, unknown> = { ...base };
    for (let i = 0; props && Object.keys(props).length < 255; i++) props[`p${i}`] = i;
    expect(violationsOf({ event: 'A', properties: props })).toEqual([
      { field: 'properties', message: expect.stringContaining('255 properties') },
    ]);
  });

  it('rejects an event of 1 MB or more', () => {
    const props: Record<string, unknown> = { ...base };
    for (let i = 0; i < 200; i++) props[`p${i}`] = 'z'.repeat(6000);
    expect(violationsOf({ event: 'A', properties: props }).map((v) => v.field)).toContain('');
  });

  it('accepts an empty distinct_id and milliseconds', () => {
    expect(
      violationsOf({ event: 'A', properties: { time: 1763800000123, $insert_id: 'x', distinct_id: '' } }),
    ).toEqual([]);
  });

  it('rejects identity events in Simplified with Mixpanel’s message', () => {
    expect(violationsOf({ event: '$merge', properties: { ...base, $distinct_ids: ['a', 'b'] } })).toEqual([
      { field: 'event', message: SIMPLIFIED_IDENTITY_EVENT_MESSAGE },
    ]);
  });

  it('checks the special events of Original', () => {
    expect(
      violationsOf(
        { event: '$identify', properties: { time: base.time, $insert_id: 'x', $identified_id: 'U1' } },
        'original',
      ),
    ).toEqual([{ field: 'properties.$anon_id', message: expect.stringContaining('string') }]);
    // The SDK form: the identified side is distinct_id, the anonymous side $anon_distinct_id.
    expect(
      violationsOf(
        {
          event: '$identify',
          properties: { time: base.time, $insert_id: 'x', distinct_id: 'U1', $anon_distinct_id: 'none' },
        },
        'original',
      ),
    ).toEqual([{ field: 'properties.$anon_distinct_id', message: expect.stringContaining('invalid IDs') }]);
    expect(
      violationsOf(
        {
          event: '$identify',
          properties: { time: base.time, $insert_id: 'x', distinct_id: 'U1', $anon_distinct_id: 'D1' },
        },
        'original',
      ),
    ).toEqual([]);
    expect(
      violationsOf(
        {
          event: '$identify',
          properties: { time: base.time, $insert_id: 'x', distinct_id: '', $anon_id: 'D1' },
        },
        'original',
      ),
    ).toEqual([{ field: 'properties.distinct_id', message: 'must not be empty' }]);
    expect(
      violationsOf(
        {
          event: '$create_alias',
          properties: { time: base.time, $insert_id: 'x', distinct_id: 'U1', alias: 'none' },
        },
        'original',
      ),
    ).toEqual([{ field: 'properties.alias', message: expect.stringContaining('invalid IDs') }]);
    expect(violationsOf({ event: 'A', properties: { ...base } }, 'original')).toEqual([
      { field: 'properties.distinct_id', message: expect.stringContaining('required') },
    ]);
  });
});

describe('profile and group updates', () => {
  it('accepts one operation keyed by a valid ID', () => {
    expect(validateEngageUpdate({ $distinct_id: 'U1', $set: { $email: 'a@b.c' } }).ok).toBe(true);
    expect(validateGroupUpdate({ $group_key: 'company', $group_id: 'acme', $unset: ['plan'] }).ok).toBe(true);
  });

  it.each([
    [{ $set: { a: 1 } }, '$distinct_id'],
    [{ $distinct_id: 'null', $set: { a: 1 } }, '$distinct_id'],
    [{ $distinct_id: 'U1' }, ''],
    [{ $distinct_id: 'U1', $set: { a: 1 }, $unset: ['b'] }, '$set,$unset'],
    [{ $distinct_id: 'U1', $add: { visits: 'one' } }, '$add.visits'],
    [{ $distinct_id: 'U1', $union: { tags: 'a' } }, '$union.tags'],
    [{ $distinct_id: 'U1', $unset: 'plan' }, '$unset'],
  ])('rejects %j', (update, field) => {
    const result = validateEngageUpdate(update);
    expect(result.ok ? [] : result.violations.map((v) => v.field)).toContain(field);
  });
});

describe('nesting', () => {
  it('accepts objects nested three levels deep', () => {
    expect(violationsOf({ event: 'A', properties: { ...base, a: { b: { c: { d: 1 } } } } })).toEqual([]);
  });
});

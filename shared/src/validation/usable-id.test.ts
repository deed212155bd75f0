import { describe, expect, it } from 'vitest';
import { createIdentityModel } from '../identity/index.js';
import { readId } from '../mapping/identity-properties.js';
import { mapSegmentCall } from '../mapping/segment/map-call.js';
import { columnMappingSchema } from '../mapping/warehouse/column-mapping.js';
import { mapWarehouseRow } from '../mapping/warehouse/map-row.js';
import { idVerdict, usableId } from './ids.js';
import { validateEvent } from './event.js';
import { validateEngageUpdate } from './profile.js';

const NOW = Date.UTC(2026, 0, 1);
const TIME = 1763800000;
const BLANKS = ['', ' ', '   ', '\t', '\n', '\u00a0', '\u2003', '\ufeff', ' \t\r\n '];

describe('one usable-ID rule', () => {
  it('names blank, absent, invalid, non-string and usable values the same way everywhere', () => {
    for (const blank of BLANKS) expect(idVerdict(blank), JSON.stringify(blank)).toBe('none');
    expect(idVerdict(undefined)).toBe('none');
    expect(idVerdict(null)).toBe('none');
    expect(idVerdict(42)).toBe('not_a_string');
    expect(idVerdict({})).toBe('not_a_string');
    for (const invalid of ['null', ' NULL ', 'N/A', '0', '00000000-0000-0000-0000-000000000000'])
      expect(idVerdict(invalid), invalid).toBe('invalid');
    for (const id of ['u1', ' u1 ', '$device:D1', 'anon-1', 'user 42']) expect(usableId(id), id).toBe(id); // kept exactly as sent, never trimmed
  });

  it('the mapping reads a blank ID as none; validation and the model agree', () => {
    for (const blank of BLANKS) {
      // Segment: a blank anonymousId beside a userId is no device at all.
      const mapped = mapSegmentCall(
        { type: 'track', event: 'A', userId: 'U1', anonymousId: blank, messageId: 'm', timestamp: TIME },
        { mode: 'simplified', nowMs: NOW },
      );
      expect(mapped.ok).toBe(true);
      if (mapped.ok) expect(mapped.payloads[0]?.body).not.toHaveProperty('properties.$device_id');
      expect(readId(blank)).toBeUndefined();

      // Validation: a blank $device_id or $user_id is absent, not an ID.
      const withBlankUser = {
        event: 'A',
        properties: { time: TIME, $insert_id: 'i1', $device_id: 'D1', $user_id: blank },
      };
      expect(validateEvent(withBlankUser, { mode: 'simplified', nowMs: NOW }).ok).toBe(true);
      const onlyBlank = { event: 'A', properties: { time: TIME, $insert_id: 'i1', $user_id: blank } };
      expect(validateEvent(onlyBlank, { mode: 'simplified', nowMs: NOW })).toMatchObject({
        ok: false,
        violations: [{ field: 'properties.distinct_id' }],
      });

      // The model: stored under the device, as the mapping would have sent it.
      const model = createIdentityModel('simplified', { nowMs: () => NOW });
      expect(model.ingest(withBlankUser)).toMatchObject({
        status: 'accepted',
        ingestedDistinctId: '$device:D1',
      });
    }
  });

  it('required ID fields refuse a blank value as they refuse an empty one', () => {
    const identify = (anon: string) => ({
      event: '$identify',
      properties: { time: TIME, $insert_id: 'i1', $identified_id: 'U1', $anon_id: anon },
    });
    expect(validateEvent(identify('  '), { mode: 'original', nowMs: NOW })).toMatchObject({
      ok: false,
      violations: [{ field: 'properties.$anon_id', message: expect.stringMatching(/blank/) }],
    });
    expect(validateEngageUpdate({ $distinct_id: ' ', $set: { a: 1 } })).toMatchObject({
      ok: false,
      violations: [{ field: '$distinct_id' }],
    });
  });

  it('a blank distinct_id is an empty one: a special event is stored under its identified ID', () => {
    const model = createIdentityModel('original', { nowMs: () => NOW });
    const outcome = model.ingest({
      event: '$identify',
      properties: {
        time: TIME,
        $insert_id: 'i1',
        distinct_id: '  ',
        $identified_id: 'U1',
        $anon_id: '2f1d9f3e-6b7a-4c1e-9d2a-0b5c8e7f6a31',
      },
    });
    expect(outcome).toMatchObject({ status: 'accepted', ingestedDistinctId: 'U1' });
  });

  it('warehouse rows: a blank, NaN or object ID column names nobody; numbers and bigints are IDs', () => {
    const mapping = columnMappingSchema.parse({
      type: 'events',
      event: { value: 'A' },
      time: 't',
      device_id: 'd',
      user_id: 'u',
    });
    const map = (d: unknown, u: unknown) =>
      mapWarehouseRow({ t: TIME, d, u }, mapping, { mode: 'simplified', nowMs: NOW });
    expect(map(' ', 'U1')).toMatchObject({ ok: true });
    expect(map(Number.NaN, { id: 1 })).toMatchObject({ ok: false, errors: [{ code: 'no_identity' }] });
    const numeric = map(42, 12345678901234567890n);
    expect(numeric.ok && numeric.payloads[0]?.body).toMatchObject({
      properties: { $device_id: '42', $user_id: '12345678901234567890' },
    });
  });
});

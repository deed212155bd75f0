import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../payload/index.js';
import {
  anonymousDistinctId,
  originalAliasEvent,
  originalLinkEvent,
  setEventIdentity,
} from './identity-properties.js';
import { mapSegmentCall } from './segment/map-call.js';
import { columnMappingSchema } from './warehouse/column-mapping.js';
import { mapWarehouseRow } from './warehouse/map-row.js';

const NOW = Date.UTC(2026, 0, 1);
const TIME = 1763800000;
const UUID = '2f1d9f3e-6b7a-4c1e-9d2a-0b5c8e7f6a31';
const source = { record: 'r', field: 'anon', label: 'anon' };

describe('identity properties per ID Merge API', () => {
  it('ordinary events: Simplified $device_id/$user_id without distinct_id, Original one distinct_id', () => {
    const simplified: JsonObject = { distinct_id: 'stale' };
    setEventIdentity(simplified, 'simplified', { device: 'D', user: 'U' });
    expect(simplified).toEqual({ $device_id: 'D', $user_id: 'U' });
    const bare: JsonObject = {};
    setEventIdentity(bare, 'simplified', { distinct: 'X' });
    expect(bare).toEqual({ distinct_id: 'X' });
    for (const [ids, expected] of [
      [{ device: 'D', user: 'U', distinct: 'X' }, 'X'],
      [{ device: 'D', user: 'U' }, 'U'],
      [{ device: 'D' }, 'D'],
    ] as const) {
      const original: JsonObject = {};
      setEventIdentity(original, 'original', ids);
      expect(original).toEqual({ distinct_id: expected });
    }
  });

  it('Original links: $identify for a UUID v4, else $merge with a warning, or nothing when skipped', () => {
    const identify = originalLinkEvent(
      {},
      'U',
      UUID,
      { strategy: 'identify', nonUuidFallback: 'merge' },
      source,
    );
    expect(identify).toEqual({
      event: { event: '$identify', properties: { distinct_id: 'U', $identified_id: 'U', $anon_id: UUID } },
    });
    const prefixed = originalLinkEvent(
      {},
      'U',
      `$device:${UUID}`,
      { strategy: 'identify', nonUuidFallback: 'merge' },
      source,
    );
    expect(prefixed.event?.event).toBe('$identify');
    expect(prefixed.warning).toBeUndefined();
    const merged = originalLinkEvent(
      {},
      'U',
      'D1',
      { strategy: 'identify', nonUuidFallback: 'merge' },
      source,
    );
    expect(merged.event).toEqual({
      event: '$merge',
      properties: { distinct_id: 'U', $distinct_ids: ['U', 'D1'] },
    });
    expect(merged.warning).toMatchObject({ code: 'original_non_uuid_anon', field: 'anon', record: 'r' });
    const skipped = originalLinkEvent(
      {},
      'U',
      'D1',
      { strategy: 'identify', nonUuidFallback: 'skip' },
      source,
    );
    expect(skipped.event).toBeUndefined();
    expect(skipped.warning?.message).toMatch(/skipped/);
    const always = originalLinkEvent({}, 'U', UUID, { strategy: 'merge', nonUuidFallback: 'skip' }, source);
    expect(always).toEqual({
      event: { event: '$merge', properties: { distinct_id: 'U', $distinct_ids: ['U', UUID] } },
    });
  });

  it('aliases and anonymous profiles', () => {
    expect(originalAliasEvent({}, 'P', 'U', false)).toEqual({
      event: '$create_alias',
      properties: { distinct_id: 'P', alias: 'U' },
    });
    expect(originalAliasEvent({}, 'P', 'U', true).event).toBe('$merge');
    expect(anonymousDistinctId('simplified', 'D')).toBe('$device:D');
    expect(anonymousDistinctId('original', 'D')).toBe('D');
  });

  it('the Segment and the warehouse mappers send the same link for the same pair of IDs', () => {
    for (const mode of ['simplified', 'original'] as const) {
      for (const anon of [UUID, `$device:${UUID}`, 'D1']) {
        const call = mapSegmentCall(
          { type: 'identify', userId: 'U1', anonymousId: anon, messageId: 'm1', timestamp: TIME },
          { mode, nowMs: NOW, linkEventName: 'Linked' },
        );
        const row = mapWarehouseRow(
          { t: TIME, d: anon, u: 'U1', k: 'm1' },
          columnMappingSchema.parse({
            type: 'identities',
            device_id: 'd',
            user_id: 'u',
            time: 't',
            insert_id: 'k',
            event: { value: 'Linked' },
          }),
          { mode, nowMs: NOW },
        );
        expect(call.ok && row.ok).toBe(true);
        if (!call.ok || !row.ok) continue;
        const link = call.payloads.find((p) => p.endpoint === 'import');
        expect(link?.body, `${mode} ${anon}`).toEqual(row.payloads[0]?.body);
        expect(call.warnings.map((w) => w.code)).toEqual(row.warnings.map((w) => w.code));
      }
    }
  });
});

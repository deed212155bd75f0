import { describe, expect, it } from 'vitest';
import { loadVectorCases, type VectorCase } from '../../../test/vectors.js';
import { resolveEvents } from '../../identity/index.js';
import type { MixpanelEvent } from '../../payload/index.js';
import { identifyParties, isAnonUuidForm } from '../../validation/index.js';
import { mapSegmentCall } from './map-call.js';

const NOW = Date.UTC(2026, 0, 1);

/** The case's events as the Segment calls an app would make. */
export function asSegmentCalls(vector: VectorCase): Array<Record<string, unknown>> {
  return vector.events.map((raw, i) => {
    const { event, properties: p } = raw as { event: string; properties: Record<string, unknown> };
    const common = { messageId: `msg-${i}`, timestamp: new Date((p.time as number) * 1000).toISOString() };
    if (vector.mode === 'simplified') {
      return { ...common, type: 'track', event, anonymousId: p.$device_id, userId: p.$user_id };
    }
    if (event === '$identify') {
      const parties = identifyParties(p);
      return { ...common, type: 'identify', userId: parties.identified, anonymousId: parties.anon };
    }
    if (event === '$merge') {
      const [first, second] = p.$distinct_ids as string[];
      return { ...common, type: 'alias', userId: first, previousId: second };
    }
    const id = p.distinct_id as string;
    return {
      ...common,
      type: 'track',
      event,
      ...(isAnonUuidForm(id) ? { anonymousId: id } : { userId: id }),
    };
  });
}

function mapAll(vector: VectorCase): MixpanelEvent[] {
  return asSegmentCalls(vector).flatMap((call) => {
    const result = mapSegmentCall(call, { mode: vector.mode, nowMs: NOW, aliasAsMerge: true });
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    return result.payloads.flatMap((p) => (p.endpoint === 'import' ? [p.body] : []));
  });
}

describe('the conformance flows sent as Segment calls', () => {
  // A $identify with a non-UUID anonymous ID is exactly what the mapping refuses to send: such a
  // case is checked below through the $merge fallback instead.
  const expressible = loadVectorCases().filter(
    (vector) =>
      !vector.events.some((e) => {
        const p = (e as { properties: Record<string, unknown> }).properties;
        const anon = identifyParties(p).anon;
        return typeof anon === 'string' && !isAnonUuidForm(anon);
      }),
  );
  for (const vector of expressible) {
    it(`${vector.name}: same per-event distinct_ids and clusters`, () => {
      const document = resolveEvents(vector.mode, mapAll(vector), { nowMs: () => NOW });
      expect(document.events.map(({ index: _i, ...rest }) => rest)).toEqual(vector.expect.events);
      expect(document.clusters).toEqual(vector.expect.clusters);
    });
  }

  it('merges a non-UUID anonymous ID in Original through the $merge fallback', () => {
    const vector = loadVectorCases().find((c) => c.name === 'original/identify-non-uuid-anon');
    if (vector === undefined) throw new Error('fixture original/identify-non-uuid-anon is missing');
    const document = resolveEvents('original', mapAll(vector), { nowMs: () => NOW });
    expect(document.clusters).toEqual([{ distinct_id: 'U1', members: ['D1', 'U1'] }]);
  });

  it('a login identify in Simplified merges the anonymous history even with no later event', () => {
    const calls = [
      {
        type: 'track',
        event: 'Page Viewed',
        anonymousId: 'D1',
        messageId: 'a',
        timestamp: '2025-11-22T08:00:00Z',
      },
      {
        type: 'identify',
        anonymousId: 'D1',
        userId: 'U1',
        messageId: 'b',
        timestamp: '2025-11-22T08:01:00Z',
      },
    ];
    const events = calls.flatMap((call) => {
      const result = mapSegmentCall(call, { mode: 'simplified', nowMs: NOW });
      return result.ok ? result.payloads.flatMap((p) => (p.endpoint === 'import' ? [p.body] : [])) : [];
    });
    const document = resolveEvents('simplified', events, { nowMs: () => NOW });
    expect(document.events[0]).toMatchObject({ ingested_distinct_id: '$device:D1', distinct_id: 'U1' });
  });
});

import { describe, expect, it } from 'vitest';
import { mapStored } from './prepared.js';

const mapping = { mode: 'simplified' as const, token: 'tok' };

describe('a stored call on its way out', () => {
  it('maps a call to its payloads, with its messageId as $insert_id', () => {
    const mapped = mapStored(
      JSON.stringify({
        call: {
          type: 'track',
          event: 'E',
          anonymousId: 'd',
          messageId: 'm-1',
          timestamp: '2026-12-01T00:00:00Z',
        },
      }),
      mapping,
    );
    const first = 'payloads' in mapped ? mapped.payloads[0] : undefined;
    expect(first?.endpoint).toBe('import');
    expect(JSON.parse(first?.json ?? 'null')).toMatchObject({
      event: 'E',
      properties: { $insert_id: 'm-1' },
    });
  });

  it('turns a refused record, a call the mapping refuses and a damaged record into dead letters with reasons', () => {
    expect(
      mapStored(
        JSON.stringify({ refused: 'too deep', field: 'properties', call: { type: 'track' } }),
        mapping,
      ),
    ).toEqual({
      record: { type: 'track' },
      stage: 'validation',
      reason: 'too deep',
      field: 'properties',
    });
    const unmappable = mapStored(
      JSON.stringify({ call: { type: 'track', event: 'E', anonymousId: null } }),
      mapping,
    );
    expect(unmappable).toMatchObject({ stage: 'validation', reason: expect.stringMatching(/\S/) });
    expect(mapStored('{"call": {"type": "tr', mapping)).toMatchObject({
      stage: 'validation',
      reason: expect.stringMatching(/not JSON/),
    });
  });
});

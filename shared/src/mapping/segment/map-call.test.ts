import { describe, expect, it } from 'vitest';
import type { IdMergeMode, Payload } from '../../payload/index.js';
import { mapSegmentCall } from './map-call.js';

const NOW = Date.UTC(2026, 0, 1);
const TS = '2025-11-22T08:00:00.000Z';
const MS = Date.parse(TS);
const ANON = '3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';

function payloads(
  call: Record<string, unknown>,
  mode: IdMergeMode,
  extra: Record<string, unknown> = {},
): Payload[] {
  const result = mapSegmentCall({ messageId: 'm-1', timestamp: TS, ...call }, { mode, nowMs: NOW, ...extra });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.payloads;
}

type Row = [string, IdMergeMode, Record<string, unknown>, Payload[]];

const table: Row[] = [
  [
    'track, anonymous',
    'simplified',
    { type: 'track', event: 'Played', anonymousId: 'D1', properties: { song: 'x' } },
    [
      {
        endpoint: 'import',
        body: { event: 'Played', properties: { song: 'x', time: MS, $insert_id: 'm-1', $device_id: 'D1' } },
      },
    ],
  ],
  [
    'track, identified',
    'simplified',
    { type: 'track', event: 'Played', anonymousId: 'D1', userId: 'U1' },
    [
      {
        endpoint: 'import',
        body: {
          event: 'Played',
          properties: { time: MS, $insert_id: 'm-1', $device_id: 'D1', $user_id: 'U1' },
        },
      },
    ],
  ],
  [
    'track, identified',
    'original',
    { type: 'track', event: 'Played', anonymousId: 'D1', userId: 'U1' },
    [
      {
        endpoint: 'import',
        body: { event: 'Played', properties: { time: MS, $insert_id: 'm-1', distinct_id: 'U1' } },
      },
    ],
  ],
  [
    'track, anonymous',
    'original',
    { type: 'track', event: 'Played', anonymousId: ANON },
    [
      {
        endpoint: 'import',
        body: { event: 'Played', properties: { time: MS, $insert_id: 'm-1', distinct_id: ANON } },
      },
    ],
  ],
  [
    'page with a name and context',
    'simplified',
    {
      type: 'page',
      name: 'Pricing',
      anonymousId: 'D1',
      context: { page: { url: 'https://x.test/p', referrer: 'https://r.test' } },
    },
    [
      {
        endpoint: 'import',
        body: {
          event: 'Viewed Pricing',
          properties: {
            $current_url: 'https://x.test/p',
            $referrer: 'https://r.test',
            name: 'Pricing',
            time: MS,
            $insert_id: 'm-1',
            $device_id: 'D1',
          },
        },
      },
    ],
  ],
  [
    'screen without a name',
    'original',
    { type: 'screen', userId: 'U1' },
    [
      {
        endpoint: 'import',
        body: { event: 'Viewed Screen', properties: { time: MS, $insert_id: 'm-1', distinct_id: 'U1' } },
      },
    ],
  ],
  [
    'identify with both IDs: link event and profile',
    'simplified',
    {
      type: 'identify',
      anonymousId: 'D1',
      userId: 'U1',
      traits: { email: 'a@x.test', firstName: 'Ada', plan: 'pro' },
    },
    [
      {
        endpoint: 'import',
        body: {
          event: 'Identify',
          properties: { time: MS, $insert_id: 'm-1', $device_id: 'D1', $user_id: 'U1' },
        },
      },
      {
        endpoint: 'engage',
        body: { $distinct_id: 'U1', $set: { $email: 'a@x.test', $first_name: 'Ada', plan: 'pro' }, $ip: 0 },
      },
    ],
  ],
  [
    'identify with both IDs: $identify and profile',
    'original',
    { type: 'identify', anonymousId: ANON, userId: 'U1', traits: { name: 'Ada' } },
    [
      {
        endpoint: 'import',
        body: {
          event: '$identify',
          properties: {
            time: MS,
            $insert_id: 'm-1',
            distinct_id: 'U1',
            $identified_id: 'U1',
            $anon_id: ANON,
          },
        },
      },
      { endpoint: 'engage', body: { $distinct_id: 'U1', $set: { $name: 'Ada' }, $ip: 0 } },
    ],
  ],
  [
    'identify with a non-UUID anonymous ID falls back to $merge',
    'original',
    { type: 'identify', anonymousId: 'D1', userId: 'U1' },
    [
      {
        endpoint: 'import',
        body: {
          event: '$merge',
          properties: { time: MS, $insert_id: 'm-1', distinct_id: 'U1', $distinct_ids: ['U1', 'D1'] },
        },
      },
    ],
  ],
  [
    'alias of an anonymous ID links it',
    'simplified',
    { type: 'alias', anonymousId: 'D1', previousId: 'D1', userId: 'U1' },
    [
      {
        endpoint: 'import',
        body: {
          event: 'Identify',
          properties: { time: MS, $insert_id: 'm-1', $device_id: 'D1', $user_id: 'U1' },
        },
      },
    ],
  ],
  [
    'alias becomes $create_alias',
    'original',
    { type: 'alias', previousId: ANON, userId: 'U1' },
    [
      {
        endpoint: 'import',
        body: {
          event: '$create_alias',
          properties: { time: MS, $insert_id: 'm-1', distinct_id: ANON, alias: 'U1' },
        },
      },
    ],
  ],
  [
    'group: group profile and membership',
    'simplified',
    { type: 'group', userId: 'U1', groupId: 'acme', traits: { name: 'Acme', employees: 10 } },
    [
      {
        endpoint: 'groups',
        body: { $group_key: 'company_id', $group_id: 'acme', $set: { $name: 'Acme', employees: 10 } },
      },
      { endpoint: 'engage', body: { $distinct_id: 'U1', $union: { company_id: ['acme'] } } },
    ],
  ],
  [
    'group',
    'original',
    { type: 'group', userId: 'U1', groupId: 'acme', traits: { plan: 'pro' } },
    [
      { endpoint: 'groups', body: { $group_key: 'company_id', $group_id: 'acme', $set: { plan: 'pro' } } },
      { endpoint: 'engage', body: { $distinct_id: 'U1', $union: { company_id: ['acme'] } } },
    ],
  ],
];

describe('mapSegmentCall: each call type in each API', () => {
  it.each(table)('%s (%s)', (_label, mode, call, expected) => {
    expect(payloads(call, mode)).toEqual(expected);
  });
});

describe('mapSegmentCall: options and rules', () => {
  it('keeps a property or trait named __proto__ as a property, at any depth (JSON.parse makes it one)', () => {
    const call = JSON.parse(
      '{"type":"identify","userId":"U1","traits":{"__proto__":{"x":1},"plan":"pro"},' +
        '"properties":{"__proto__":"top","nested":{"__proto__":{"y":2}}}}',
    ) as Record<string, unknown>;
    const sent = payloads({ ...call, type: 'track', event: 'Opened' }, 'simplified');
    const body = JSON.parse(JSON.stringify(sent[0]?.body)) as { properties: Record<string, unknown> };
    expect(Object.getOwnPropertyDescriptor(body.properties, '__proto__')?.value).toBe('top');
    const nested = body.properties.nested as Record<string, unknown>;
    expect(Object.getOwnPropertyDescriptor(nested, '__proto__')?.value).toEqual({ y: 2 });
    const profile = payloads(call, 'simplified').find((p) => p.endpoint === 'engage');
    const set = JSON.parse(JSON.stringify(profile?.body)) as { $set: Record<string, unknown> };
    expect(Object.getOwnPropertyDescriptor(set.$set, '__proto__')?.value).toEqual({ x: 1 });
    expect(set.$set.plan).toBe('pro');
  });

  it('never emits identity events in Simplified', () => {
    const calls = table.filter(([, mode]) => mode === 'simplified').map(([, , call]) => call);
    for (const call of calls) {
      for (const payload of payloads(call, 'simplified')) {
        if (payload.endpoint === 'import')
          expect(['$identify', '$create_alias', '$merge']).not.toContain(payload.body.event);
      }
    }
  });

  it('names the link event as configured, or leaves it out', () => {
    const call = { type: 'identify', anonymousId: 'D1', userId: 'U1' };
    expect(payloads(call, 'simplified', { linkEventName: 'Logged In' })[0]).toMatchObject({
      body: { event: 'Logged In' },
    });
    expect(payloads(call, 'simplified', { sendLinkEvent: false })).toEqual([]);
  });

  it('reads the device ID from a configured path', () => {
    const [payload] = payloads(
      { type: 'track', event: 'A', anonymousId: 'X', context: { device: { id: 'DEV' } } },
      'simplified',
      {
        deviceIdPath: 'context.device.id',
      },
    );
    expect(payload).toMatchObject({ body: { properties: { $device_id: 'DEV' } } });
  });

  it('keeps anonymous identifies off profiles unless asked, and says so', () => {
    const call = {
      messageId: 'm-1',
      timestamp: TS,
      type: 'identify',
      anonymousId: 'D1',
      traits: { plan: 'free' },
    };
    expect(mapSegmentCall(call, { mode: 'simplified', nowMs: NOW })).toEqual({
      ok: true,
      payloads: [],
      warnings: [expect.objectContaining({ code: 'anonymous_identify_skipped', field: 'userId' })],
    });
    expect(payloads(call, 'simplified', { anonymousProfiles: true })).toEqual([
      { endpoint: 'engage', body: { $distinct_id: '$device:D1', $set: { plan: 'free' }, $ip: 0 } },
    ]);
  });

  it('reports a non-UUID anonymous ID in Original and skips the merge when configured', () => {
    const result = mapSegmentCall(
      { messageId: 'm-1', timestamp: TS, type: 'identify', anonymousId: 'D1', userId: 'U1' },
      { mode: 'original', nowMs: NOW, originalNonUuidFallback: 'skip' },
    );
    expect(result).toEqual({
      ok: true,
      payloads: [],
      warnings: [
        expect.objectContaining({
          code: 'original_non_uuid_anon',
          message: expect.stringContaining('errAnonDistinctIdNonGUIDForm'),
        }),
      ],
    });
  });

  it('sends explicit user–user merges as $merge in Original when configured', () => {
    expect(
      payloads({ type: 'alias', previousId: 'U0', userId: 'U1' }, 'original', { aliasAsMerge: true }),
    ).toEqual([
      {
        endpoint: 'import',
        body: {
          event: '$merge',
          properties: { time: MS, $insert_id: 'm-1', distinct_id: 'U1', $distinct_ids: ['U1', 'U0'] },
        },
      },
    ]);
  });

  it('adds the project token to events and profiles', () => {
    const result = payloads(
      { type: 'identify', anonymousId: 'D1', userId: 'U1', traits: { a: 1 } },
      'simplified',
      { token: 'tok' },
    );
    expect(result[0]).toMatchObject({ body: { properties: { token: 'tok' } } });
    expect(result[1]).toMatchObject({ body: { $token: 'tok' } });
  });

  it('gives the same $insert_id to the same call and a different one to another call', () => {
    const call = { type: 'track', event: 'A', anonymousId: 'D1', timestamp: TS };
    const a = mapSegmentCall(call, { mode: 'simplified', nowMs: NOW });
    const b = mapSegmentCall({ ...call }, { mode: 'simplified', nowMs: NOW });
    const c = mapSegmentCall({ ...call, event: 'B' }, { mode: 'simplified', nowMs: NOW });
    const id = (r: typeof a) =>
      r.ok && r.payloads[0]?.endpoint === 'import' ? r.payloads[0].body.properties.$insert_id : undefined;
    expect(id(a)).toMatch(/^[0-9a-f]{32}$/);
    expect(id(a)).toBe(id(b));
    expect(id(a)).not.toBe(id(c));
  });

  it('hashes a messageId Mixpanel would refuse as $insert_id', () => {
    const [payload] = payloads(
      { type: 'track', event: 'A', anonymousId: 'D1', messageId: 'ajs-next-1700000000000-aaaa_bbbb' },
      'simplified',
    );
    expect(payload).toMatchObject({
      body: { properties: { $insert_id: expect.stringMatching(/^[0-9a-f]{32}$/) } },
    });
  });
});

import { describe, expect, it } from 'vitest';
import { resolveEvents } from '../../identity/index.js';
import type { MixpanelEvent } from '../../payload/index.js';
import { columnMappingSchema, type ColumnMappingInput } from './column-mapping.js';
import { columnsRead, mapWarehouseRow } from './map-row.js';

const NOW = Date.UTC(2026, 0, 1);
const ANON = '3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';

function map(
  mapping: ColumnMappingInput,
  row: Record<string, unknown>,
  mode: 'simplified' | 'original' = 'simplified',
) {
  return mapWarehouseRow(row, columnMappingSchema.parse(mapping), { mode, keyColumns: ['id'], nowMs: NOW });
}

const eventsMapping: ColumnMappingInput = {
  type: 'events',
  event: 'event_name',
  time: 'event_time',
  time_zone: 'UTC',
  device_id: 'anonymous_id',
  user_id: 'user_id',
  insert_id: 'id',
  properties: { exclude: ['internal_note'], rename: { utm_src: 'utm_source' } },
};

describe('mapWarehouseRow: events', () => {
  const row = {
    id: 42,
    event_name: 'Played',
    event_time: '2025-11-22 08:00:00',
    anonymous_id: 'D1',
    user_id: null,
    internal_note: 'secret',
    utm_src: 'news',
    amount: 12n,
    at: new Date(Date.UTC(2025, 0, 1)),
  };

  it('maps columns to an event with identity, time, insert ID and properties', () => {
    expect(map(eventsMapping, row)).toEqual({
      ok: true,
      warnings: [],
      payloads: [
        {
          endpoint: 'import',
          body: {
            event: 'Played',
            properties: {
              utm_source: 'news',
              amount: 12,
              at: '2025-01-01T00:00:00.000Z',
              time: Date.UTC(2025, 10, 22, 8),
              $insert_id: '42',
              $device_id: 'D1',
            },
          },
        },
      ],
    });
  });

  it('uses distinct_id in Original: the user when known, else the device', () => {
    const result = map(eventsMapping, { ...row, user_id: 'U1' }, 'original');
    expect(result.ok && result.payloads[0]?.body).toMatchObject({ properties: { distinct_id: 'U1' } });
    expect(result.ok && result.payloads[0]?.body).not.toHaveProperty('properties.$user_id');
  });

  it('keeps only included columns, and takes a constant event name', () => {
    const result = map(
      { ...eventsMapping, event: { value: 'Synced' }, properties: { include: ['utm_src'] } },
      row,
    );
    expect(result.ok && result.payloads[0]?.body).toEqual({
      event: 'Synced',
      properties: { utm_src: 'news', time: Date.UTC(2025, 10, 22, 8), $insert_id: '42', $device_id: 'D1' },
    });
  });

  it('hashes several insert_id columns into one stable ID', () => {
    const mapping = { ...eventsMapping, insert_id: ['id', 'event_name'] };
    const a = map(mapping, row);
    const b = map(mapping, { ...row, utm_src: 'other' });
    const c = map(mapping, { ...row, id: 43 });
    const id = (r: ReturnType<typeof map>) =>
      r.ok ? (r.payloads[0]?.body as MixpanelEvent).properties.$insert_id : null;
    expect(id(a)).toMatch(/^[0-9a-f]{32}$/);
    expect(id(a)).toBe(id(b));
    expect(id(a)).not.toBe(id(c));
  });
});

describe('mapWarehouseRow: identities and profiles', () => {
  const identities: ColumnMappingInput = {
    type: 'identities',
    device_id: 'device',
    user_id: 'user',
    time: 'at',
    time_zone: 'UTC',
  };
  const login = { id: 1, device: ANON, user: 'U1', at: '2025-11-22T08:00:00Z' };

  it('links a device to a user with an ordinary event in Simplified', () => {
    const result = map(identities, login);
    expect(result.ok && result.payloads[0]?.body).toMatchObject({
      event: 'Identity Linked',
      properties: { $device_id: ANON, $user_id: 'U1' },
    });
  });

  it('sends $identify in Original, and $merge when the device ID is not a UUID v4 (with a warning)', () => {
    expect(map(identities, login, 'original')).toMatchObject({
      ok: true,
      payloads: [
        {
          body: {
            event: '$identify',
            properties: { $identified_id: 'U1', $anon_id: ANON, distinct_id: 'U1' },
          },
        },
      ],
    });
    expect(map(identities, { ...login, device: 'D1' }, 'original')).toMatchObject({
      ok: true,
      payloads: [{ body: { event: '$merge', properties: { $distinct_ids: ['U1', 'D1'] } } }],
      warnings: [{ code: 'original_non_uuid_anon', field: 'device', record: 'row id=1' }],
    });
  });

  it('sends $merge for every pair when configured', () => {
    const result = map({ ...identities, original_strategy: 'merge' }, login, 'original');
    expect(result.ok && (result.payloads[0]?.body as MixpanelEvent).event).toBe('$merge');
  });

  it('the seed flows as an events table plus an identities table give the expected clusters', () => {
    const eventRows = [
      {
        id: 'e1',
        event_name: 'Page Viewed',
        event_time: '2025-11-22 08:00:00',
        anonymous_id: 'D1',
        user_id: null,
      },
      {
        id: 'e2',
        event_name: 'Page Viewed',
        event_time: '2025-11-22 08:01:00',
        anonymous_id: 'D1',
        user_id: null,
      },
      {
        id: 'e3',
        event_name: 'Purchase',
        event_time: '2025-11-22 08:03:00',
        anonymous_id: null,
        user_id: 'U1',
      },
    ];
    const logins = [{ id: 'l1', device: 'D1', user: 'U1', at: '2025-11-22T08:02:00Z' }];
    const events = [
      ...eventRows.map((r) => map(eventsMapping, r)),
      ...logins.map((r) => map(identities, r)),
    ].flatMap((r) => (r.ok ? r.payloads.map((p) => p.body as MixpanelEvent) : []));
    const document = resolveEvents('simplified', events, { nowMs: () => NOW });
    expect(document.clusters).toEqual([{ distinct_id: 'U1', members: ['$device:D1', 'U1'] }]);
  });

  it('turns a profile row into a $set keyed by the user', () => {
    expect(
      map(
        { type: 'profiles', user_id: 'user', properties: { rename: { mail: '$email' } } },
        { user: 'U1', mail: 'a@x.test', id: 1 },
      ),
    ).toEqual({
      ok: true,
      warnings: [],
      payloads: [
        { endpoint: 'engage', body: { $distinct_id: 'U1', $set: { $email: 'a@x.test', id: 1 }, $ip: 0 } },
      ],
    });
  });

  it('refuses a mapping with a misspelled key, naming it', () => {
    const parsed = columnMappingSchema.safeParse({ type: 'events', event: 'e', time: 't', user_idd: 'u' });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toMatch(/user_idd/);
  });
});

describe('columnsRead', () => {
  const row = {
    id: 7,
    event_name: 'Played',
    event_time: '2025-11-22 08:00:00',
    anonymous_id: 'D1',
    user_id: 'U1',
    internal_note: 'secret',
    utm_src: 'news',
    plan: 'pro',
    email: 'a@example.com',
  };
  const cases: Array<[string, ColumnMappingInput, string[]]> = [
    [
      'events, exclude and rename',
      eventsMapping,
      ['id', 'event_name', 'event_time', 'anonymous_id', 'user_id', 'utm_src', 'plan', 'email'],
    ],
    [
      'events, include',
      { ...eventsMapping, properties: { include: ['plan'] } },
      ['id', 'event_name', 'event_time', 'anonymous_id', 'user_id', 'plan'],
    ],
    [
      'identities (no properties)',
      {
        type: 'identities',
        device_id: 'anonymous_id',
        user_id: 'user_id',
        time: 'event_time',
        time_zone: 'UTC',
      },
      ['id', 'event_time', 'anonymous_id', 'user_id'],
    ],
    [
      'profiles, include',
      { type: 'profiles', user_id: 'user_id', properties: { include: ['email'] } },
      ['id', 'user_id', 'email'],
    ],
  ];
  for (const [title, input, expected] of cases) {
    it(`${title}: reads only what the mapping uses, and maps the narrowed row the same`, () => {
      const mapping = columnMappingSchema.parse(input);
      const read = columnsRead(mapping, Object.keys(row), ['id']);
      expect(read).toEqual(expected);
      const narrowed = Object.fromEntries(read.map((column) => [column, row[column as keyof typeof row]]));
      const options = { mode: 'simplified' as const, keyColumns: ['id'], nowMs: NOW };
      expect(mapWarehouseRow(narrowed, mapping, options)).toEqual(mapWarehouseRow(row, mapping, options));
    });
  }

  it('keeps a key column the mapping does not otherwise use, for row labels in errors', () => {
    const mapping = columnMappingSchema.parse({
      type: 'profiles',
      user_id: 'user_id',
      properties: { include: [] },
    });
    expect(columnsRead(mapping, ['id', 'user_id', 'email'], ['id'])).toEqual(['id', 'user_id']);
  });
});

describe('flatRowToEvent', () => {
  it('keeps every column as a property when it derives the insert ID from the whole row', async () => {
    const { flatRowToEvent } = await import('../flat-row.js');
    const row = { event: 'Purchase', time: 1763800000, distinct_id: 'U1', n: 2, plan: 'pro' };
    const a = flatRowToEvent(row, { mode: 'original', nowMs: NOW });
    const b = flatRowToEvent({ ...row }, { mode: 'original', nowMs: NOW });
    const c = flatRowToEvent({ ...row, n: 3 }, { mode: 'original', nowMs: NOW });
    const props = (r: typeof a) => (r.ok ? (r.payloads[0]?.body as MixpanelEvent).properties : {});
    expect(props(a)).toMatchObject({
      n: 2,
      plan: 'pro',
      distinct_id: 'U1',
      $insert_id: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    expect(props(a).$insert_id).toBe(props(b).$insert_id);
    expect(props(a).$insert_id).not.toBe(props(c).$insert_id);
  });
});

describe('mapWarehouseRow: the row label', () => {
  it('is made only for a row with an issue, and then names the row by its key', () => {
    let made = 0;
    const key = {
      toString: () => {
        made++;
        return 'k-7';
      },
    };
    const mapping = { ...eventsMapping, insert_id: undefined, properties: { exclude: ['id'] } };
    const good = map(mapping, {
      id: key,
      event_name: 'Played',
      event_time: '2025-11-22 08:00:00',
      anonymous_id: 'D1',
    });
    expect(good.ok).toBe(true);
    expect(made).toBe(0);
    const bad = map(mapping, { id: key, event_name: 'Played', event_time: 'not a time', anonymous_id: 'D1' });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.errors[0]?.record).toBe('row id=k-7');
    expect(made).toBe(1);
  });
});

import { describe, expect, it } from 'vitest';
import { columnMappingSchema, type ColumnMappingInput } from './column-mapping.js';
import { mapWarehouseRow } from './map-row.js';

const map = (mapping: ColumnMappingInput, row: Record<string, unknown>) =>
  mapWarehouseRow(row, columnMappingSchema.parse(mapping), { mode: 'simplified', keyColumns: ['id'] });

describe('warehouse profiles: every profile operation, per column', () => {
  const mapping: ColumnMappingInput = {
    type: 'profiles',
    user_id: 'id',
    operations: {
      first_seen: '$set_once',
      logins: '$add',
      tags: '$union',
      pages: '$append',
      dropped_tag: '$remove',
      stale: '$unset',
    },
    properties: { rename: { plan_name: 'plan', tags: 'labels' } },
  };

  it('sends one validated /engage record per operation, in the order Mixpanel applies them', () => {
    const result = map(mapping, {
      id: 'U1',
      plan_name: 'pro',
      first_seen: '2025-01-01',
      logins: 3,
      tags: ['a', 'b'],
      pages: '/pricing',
      dropped_tag: 'trial',
      stale: ['old_plan', 'legacy'],
    });
    expect(result).toEqual({
      ok: true,
      warnings: [],
      payloads: [
        { endpoint: 'engage', body: { $distinct_id: 'U1', $set: { plan: 'pro' }, $ip: 0 } },
        { endpoint: 'engage', body: { $distinct_id: 'U1', $set_once: { first_seen: '2025-01-01' }, $ip: 0 } },
        { endpoint: 'engage', body: { $distinct_id: 'U1', $add: { logins: 3 }, $ip: 0 } },
        { endpoint: 'engage', body: { $distinct_id: 'U1', $union: { labels: ['a', 'b'] }, $ip: 0 } },
        { endpoint: 'engage', body: { $distinct_id: 'U1', $append: { pages: '/pricing' }, $ip: 0 } },
        { endpoint: 'engage', body: { $distinct_id: 'U1', $remove: { dropped_tag: 'trial' }, $ip: 0 } },
        { endpoint: 'engage', body: { $distinct_id: 'U1', $unset: ['old_plan', 'legacy'], $ip: 0 } },
      ],
    });
  });

  it('a NULL is no operand (except for $set, which sets null); a single value unions as a list of one', () => {
    const result = map(mapping, {
      id: 'U2',
      plan_name: null,
      first_seen: null,
      logins: null,
      tags: 'solo',
      pages: null,
      dropped_tag: null,
      stale: 'old_plan',
    });
    expect(result.ok && result.payloads.map((p) => p.body)).toEqual([
      { $distinct_id: 'U2', $set: { plan: null }, $ip: 0 },
      { $distinct_id: 'U2', $set_once: { first_seen: null }, $ip: 0 },
      { $distinct_id: 'U2', $union: { labels: ['solo'] }, $ip: 0 },
      { $distinct_id: 'U2', $unset: ['old_plan'], $ip: 0 },
    ]);
  });

  it('an operand of the wrong kind fails the row, naming the field, per the spec', () => {
    expect(map(mapping, { id: 'U3', logins: 'many' })).toMatchObject({
      ok: false,
      errors: [{ record: 'row id=U3', field: '$add.logins', message: '$add takes numbers only' }],
    });
    expect(map(mapping, { id: 'U3', stale: 7 })).toMatchObject({
      ok: false,
      errors: [{ field: '$unset', message: 'must be a list of property names' }],
    });
  });

  it('a row-level operation applies to every column not named in operations', () => {
    const result = map(
      { type: 'profiles', user_id: 'id', operation: '$add', operations: { note: '$set' } },
      {
        id: 'U4',
        visits: 2,
        spend: 10.5,
        note: 'x',
      },
    );
    expect(result.ok && result.payloads.map((p) => p.body)).toEqual([
      { $distinct_id: 'U4', $set: { note: 'x' }, $ip: 0 },
      { $distinct_id: 'U4', $add: { visits: 2, spend: 10.5 }, $ip: 0 },
    ]);
  });

  it('refuses an operation Mixpanel does not know, with the key path', () => {
    const parsed = columnMappingSchema.safeParse({
      type: 'profiles',
      user_id: 'id',
      operations: { a: '$increment' },
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['operations', 'a']);
  });
});

describe('warehouse groups', () => {
  it('sends /groups records keyed by the group key and the group_id column, every group operation', () => {
    const result = map(
      {
        type: 'groups',
        group_key: 'company_id',
        group_id: 'id',
        operations: { founded: '$set_once', domains: '$union', lost_domain: '$remove', legacy: '$unset' },
      },
      {
        id: 'C1',
        name: 'Acme',
        founded: 1999,
        domains: ['acme.test'],
        lost_domain: 'old.test',
        legacy: 'crm_id',
      },
    );
    expect(result.ok && result.payloads).toEqual([
      { endpoint: 'groups', body: { $group_key: 'company_id', $group_id: 'C1', $set: { name: 'Acme' } } },
      {
        endpoint: 'groups',
        body: { $group_key: 'company_id', $group_id: 'C1', $set_once: { founded: 1999 } },
      },
      {
        endpoint: 'groups',
        body: { $group_key: 'company_id', $group_id: 'C1', $union: { domains: ['acme.test'] } },
      },
      {
        endpoint: 'groups',
        body: { $group_key: 'company_id', $group_id: 'C1', $remove: { lost_domain: 'old.test' } },
      },
      { endpoint: 'groups', body: { $group_key: 'company_id', $group_id: 'C1', $unset: ['crm_id'] } },
    ]);
  });

  it('refuses $add and $append, which group profiles do not support, and an empty group ID', () => {
    const parsed = columnMappingSchema.safeParse({
      type: 'groups',
      group_key: 'company_id',
      group_id: 'id',
      operations: { seats: '$add' },
    });
    expect(parsed.error?.issues[0]?.message).toMatch(
      /groups support \$set, \$set_once, \$union, \$remove, \$unset/,
    );
    const mapping = { type: 'groups', group_key: 'company_id', group_id: 'id' } as const;
    expect(map(mapping, { id: '  ', name: 'x' })).toMatchObject({
      ok: false,
      errors: [{ code: 'missing_id' }],
    });
  });
});

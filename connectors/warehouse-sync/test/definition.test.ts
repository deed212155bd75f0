import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSyncDefinition } from '../src/definition.js';

const EXAMPLE = `
name: web-events
mode: simplified
source:
  type: duckdb
  database: ./warehouse.duckdb
  query: select * from events
  cursor: updated_at
  primary_key: event_id
mapping:
  type: events
  event: event_name
  time: event_time
  time_zone: UTC
  device_id: anonymous_id
  user_id: user_id
  insert_id: event_id
  properties: { exclude: [ internal_note ], rename: { utm_src: utm_source } }
schedule: "*/15 * * * *"
lookback: 15m
`;

describe('sync definitions', () => {
  it('reads the documented example', () => {
    expect(parseSyncDefinition(EXAMPLE)).toMatchObject({
      name: 'web-events',
      mode: 'simplified',
      source: { type: 'duckdb', cursor: 'updated_at', primary_key: 'event_id' },
      mapping: { type: 'events', insert_id: 'event_id', properties: { rename: { utm_src: 'utm_source' } } },
      lookback: 900,
      page_size: 10_000,
    });
  });

  it('passes a DuckDB memory limit through', () => {
    const definition = parseSyncDefinition(
      EXAMPLE.replace('  primary_key: event_id', '  primary_key: event_id\n  memory_limit: 2GB'),
    );
    expect(definition.source).toMatchObject({ type: 'duckdb', memory_limit: '2GB' });
  });

  it.each([
    [
      'an unknown key',
      EXAMPLE.replace('schedule:', 'schedul:'),
      /\(top level\): Unrecognized key: "schedul"/,
    ],
    ['a bad mode', EXAMPLE.replace('mode: simplified', 'mode: hybrid'), /mode: Invalid option/],
    [
      'both query and table',
      EXAMPLE.replace('  query:', '  table: events\n  query:'),
      /source.query: give exactly one of query or table/,
    ],
    [
      'a misspelled mapping key',
      EXAMPLE.replace('  user_id: user_id', '  userid: user_id'),
      /mapping: Unrecognized key: "userid"/,
    ],
    [
      'an unknown time zone',
      EXAMPLE.replace('time_zone: UTC', 'time_zone: Mars'),
      /mapping.time_zone: unknown time zone "Mars"/,
    ],
    ['a bad lookback', EXAMPLE.replace('lookback: 15m', 'lookback: soon'), /lookback: must be a duration/],
    [
      'a column name with SQL in it',
      EXAMPLE.replace('cursor: updated_at', 'cursor: "x; drop table y"'),
      /source.cursor: must be a plain column name/,
    ],
    [
      'a DuckDB memory limit that is not a size',
      EXAMPLE.replace('  primary_key: event_id', '  primary_key: event_id\n  memory_limit: lots'),
      /source.memory_limit: must be a size such as 256MB or 2GB/,
    ],
    ['broken YAML', 'name: [', /not valid YAML/],
  ])('refuses %s, naming the key', (_label, text, message) => {
    expect(() => parseSyncDefinition(text, 'sync.yaml')).toThrow(message);
  });
});

const PROFILES = `
name: users
mode: simplified
source: { type: duckdb, table: users, primary_key: user_id }
mapping: { type: profiles, user_id: user_id }
delete_missing: true
`;

describe('sync definitions: delete_missing and max_deletes', () => {
  it('reads a count or a percentage, and defaults to no deletes', () => {
    expect(parseSyncDefinition(PROFILES)).toMatchObject({ delete_missing: true });
    expect(parseSyncDefinition(`${PROFILES}max_deletes: 500\n`).max_deletes).toBe(500);
    expect(parseSyncDefinition(`${PROFILES}max_deletes: "2.5%"\n`).max_deletes).toBe('2.5%');
    expect(parseSyncDefinition(PROFILES.replace('delete_missing: true', '')).delete_missing).toBe(false);
  });

  it.each([
    [
      'deletes for events',
      `${EXAMPLE}delete_missing: true\n`,
      /delete_missing: deletes are for mapping.type profiles or groups, not events/,
    ],
    [
      'deletes with a cursor',
      PROFILES.replace('primary_key: user_id }', 'primary_key: user_id, cursor: updated_at }'),
      /delete_missing: delete_missing needs every run to read the whole result, and source.cursor \(updated_at\)/,
    ],
    [
      'max_deletes without delete_missing',
      `${PROFILES.replace('delete_missing: true', '')}max_deletes: 5\n`,
      /max_deletes: max_deletes caps the deletes of delete_missing: true, which is not set/,
    ],
    ['a cap that is neither', `${PROFILES}max_deletes: lots\n`, /max_deletes: must be a count such as 500/],
    ['a negative cap', `${PROFILES}max_deletes: -1\n`, /max_deletes/],
    [
      'a percentage over 100',
      `${PROFILES}max_deletes: "150%"\n`,
      /max_deletes: a percentage is at most 100%/,
    ],
  ])('refuses %s, naming the key', (_label, text, message) => {
    expect(() => parseSyncDefinition(text, 'sync.yaml')).toThrow(message);
  });
});

describe('lookup-table definitions', () => {
  const lookup = (source: string, mapping: string) =>
    `name: accounts\nmode: simplified\nsource: ${source}\nmapping: ${mapping}\n`;
  const SOURCE = '{ type: duckdb, table: accounts, primary_key: account_id }';
  const MAPPING =
    '{ type: lookup_table, lookup_table_id: t-1, key: account_id, properties: { include: [name, plan], rename: { account_id: id } } }';

  it('reads a lookup table: its ID, key and the explicit property list with renames', () => {
    expect(parseSyncDefinition(lookup(SOURCE, MAPPING)).mapping).toEqual({
      type: 'lookup_table',
      lookup_table_id: 't-1',
      key: 'account_id',
      properties: { include: ['name', 'plan'], rename: { account_id: 'id' } },
    });
  });

  it('reads the example of docs/warehouse-sync.md', () => {
    const docs = readFileSync(new URL('../../../docs/warehouse-sync.md', import.meta.url), 'utf8');
    const section = docs.slice(docs.indexOf('## Lookup tables'));
    const example = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
    expect(parseSyncDefinition(example ?? '')).toMatchObject({
      source: { type: 'postgres', primary_key: 'account_id' },
      mapping: { type: 'lookup_table', key: 'account_id' },
    });
  });

  it.each([
    [
      'a cursor (the table is replaced whole)',
      '{ type: duckdb, table: accounts, primary_key: account_id, cursor: updated_at }',
      MAPPING,
      /source\.cursor: a lookup table is replaced whole/,
    ],
    [
      'a key that is not the primary key',
      '{ type: duckdb, table: accounts, primary_key: id }',
      MAPPING,
      /mapping\.key: must be the source's primary_key \("id"\)/,
    ],
    [
      'no property list',
      SOURCE,
      '{ type: lookup_table, lookup_table_id: t-1, key: account_id }',
      /mapping\.properties/,
    ],
    [
      'exclude (the list is explicit)',
      SOURCE,
      '{ type: lookup_table, lookup_table_id: t-1, key: account_id, properties: { include: [a], exclude: [b] } }',
      /mapping\.properties/,
    ],
    [
      'two columns under one header',
      SOURCE,
      '{ type: lookup_table, lookup_table_id: t-1, key: account_id, properties: { include: [a, b], rename: { b: a } } }',
      /two columns would have the header "a"/,
    ],
    [
      'a rename of a column not sent',
      SOURCE,
      '{ type: lookup_table, lookup_table_id: t-1, key: account_id, properties: { include: [a], rename: { z: y } } }',
      /mapping\.properties\.rename\.z: renames "z"/,
    ],
    [
      'the key listed again',
      SOURCE,
      '{ type: lookup_table, lookup_table_id: t-1, key: account_id, properties: { include: [account_id] } }',
      /listed twice/,
    ],
    [
      'an ID with a slash',
      SOURCE,
      '{ type: lookup_table, lookup_table_id: a/b, key: account_id, properties: { include: [a] } }',
      /mapping\.lookup_table_id: must be the ID Lexicon shows/,
    ],
  ])('refuses %s, naming the key', (_what, source, mapping, message) => {
    expect(() => parseSyncDefinition(lookup(source, mapping))).toThrow(message);
  });
});

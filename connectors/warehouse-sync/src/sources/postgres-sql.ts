import type { PostgresFlavour } from './postgres-settings.js';
import { orderKind, typeName, type OrderKind } from './postgres-values.js';
import type { PagePosition, ReadWindow } from './source.js';

/** A result column: its name and type OID, as the server describes it. */
export interface PostgresColumn {
  name: string;
  oid: number;
}

export interface Statement {
  text: string;
  values: string[];
}

export const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * What differs between PostgreSQL and Redshift in the statements the source sends. Everything else
 * is SQL both accept (checked against a PostgreSQL server; see docs/warehouse-sync.md for Redshift).
 */
export interface PostgresDialect {
  flavour: PostgresFlavour;
  /** The statements that set up a session: UTC, ISO dates, the timeout, the schema. */
  session(statementTimeoutMs: number, schema: string | undefined): string[];
  /** Opens the read-only transaction every read runs in. */
  begin: string;
  /** A value of any type as text that casts back to the same value. */
  asText(expression: string): string;
  /** (cursor, key) strictly after (cursor value, key value): the keyset condition. */
  after(cursor: string, cursorValue: string, key: string, keyValue: string): string;
}

const sessionCommon = (timeoutMs: number, schema: string | undefined) => [
  "set timezone to 'UTC'",
  "set datestyle to 'ISO, MDY'",
  // Floats as text with every digit, so a float cursor's position casts back to the same value.
  'set extra_float_digits to 3',
  `set statement_timeout to ${Math.max(0, Math.round(timeoutMs))}`,
  ...(schema === undefined ? [] : [`set search_path to ${quote(schema)}`]),
];

export const DIALECTS: Record<PostgresFlavour, PostgresDialect> = {
  postgres: {
    flavour: 'postgres',
    session: (timeoutMs, schema) => [...sessionCommon(timeoutMs, schema), "set intervalstyle to 'iso_8601'"],
    // One snapshot for the whole window, however long it takes to read.
    begin: 'begin isolation level repeatable read read only',
    asText: (expression) => `cast(${expression} as text)`,
    // A row comparison can use an index on (cursor, key).
    after: (cursor, cursorValue, key, keyValue) => `(${cursor}, ${key}) > (${cursorValue}, ${keyValue})`,
  },
  redshift: {
    flavour: 'redshift',
    // Redshift has no intervalstyle setting (it prints intervals one way).
    session: sessionCommon,
    // Redshift runs every transaction serializable; it accepts READ ONLY on BEGIN (no SET TRANSACTION).
    begin: 'begin read only',
    // Redshift's text is varchar(256), which would cut a long key: the widest varchar instead.
    asText: (expression) => `cast(${expression} as varchar(65535))`,
    after: (cursor, cursorValue, key, keyValue) =>
      `(${cursor} > ${cursorValue} or (${cursor} = ${cursorValue} and ${key} > ${keyValue}))`,
  },
};

/** Parameter `$n` read as the column's type. */
function param(index: number, column: PostgresColumn): string {
  const name = typeName(column.oid);
  return name.startsWith('oid ') ? `$${index}` : `cast($${index} as ${name})`;
}

/** The column's ordering kind, or an error naming the definition key whose column cannot order. */
export function checkOrderable(column: PostgresColumn, key: string): OrderKind {
  const kind = orderKind(column.oid);
  if (kind === undefined) {
    throw new Error(
      `${key} "${column.name}" is ${typeName(column.oid)}; use a number, text, uuid, date or timestamp column`,
    );
  }
  return kind;
}

/**
 * A shard of rows by a column, computed the same way on PostgreSQL and Redshift (both have md5, substr
 * and strpos): the first four hex digits of the md5 of the value's text, modulo the shard count.
 */
export function shardCondition(
  dialect: PostgresDialect,
  column: string,
  shard: { index: number; count: number },
): string {
  const { index, count } = shard;
  if (
    !Number.isSafeInteger(count) ||
    !Number.isSafeInteger(index) ||
    count < 1 ||
    index < 0 ||
    index >= count
  )
    throw new Error(`shard ${index} of ${count} does not exist`);
  const hash = `md5(${dialect.asText(column)})`;
  const digit = (i: number) => `(strpos('0123456789abcdef', substr(${hash}, ${i}, 1)) - 1)`;
  return `mod(${digit(1)} * 4096 + ${digit(2)} * 256 + ${digit(3)} * 16 + ${digit(4)}, ${count}) = ${index}`;
}

export const CURSOR_TEXT = '__idmerge_cursor';
export const KEY_TEXT = '__idmerge_key';

export interface WindowInput {
  dialect: PostgresDialect;
  /** `(select …) as source_rows`. */
  relation: string;
  cursor?: PostgresColumn;
  key: PostgresColumn;
  shardColumn?: PostgresColumn;
  /** The columns to fetch (all when absent), besides the position's two. */
  columns?: readonly string[];
  window: ReadWindow;
}

/**
 * The whole window in one statement, ordered by (cursor, key), each row followed by its cursor and
 * key as text: rows strictly after `window.from`, above `after` moved back by the lookback, up to
 * `upTo`. The source reads it through a server-side cursor, a page at a time.
 */
export function windowStatement(input: WindowInput): Statement {
  const { dialect, cursor, key, window } = input;
  checkOrderable(key, 'source.primary_key');
  const cursorKind = cursor === undefined ? undefined : checkOrderable(cursor, 'source.cursor');
  const values: string[] = [];
  const next = (value: string, column: PostgresColumn) => {
    values.push(value);
    return param(values.length, column);
  };
  const conditions: string[] = [];
  const k = quote(key.name);
  if (cursor !== undefined) {
    const c = quote(cursor.name);
    if (window.after !== undefined) {
      const lookback = Math.round(window.lookbackSeconds ?? 0);
      const after = next(window.after, cursor);
      if (lookback === 0) conditions.push(`${c} > ${after}`);
      else if (cursorKind === 'temporal') conditions.push(`${c} > ${after} - interval '${lookback} seconds'`);
      else if (cursorKind === 'number') conditions.push(`${c} > ${after} - ${lookback}`);
      else
        throw new Error(
          `a lookback needs a timestamp, date or number cursor; source.cursor "${cursor.name}" is ${typeName(cursor.oid)}`,
        );
    }
    if (window.upTo !== undefined) conditions.push(`${c} <= ${next(window.upTo, cursor)}`);
  }
  if (window.shard !== undefined) {
    const column = quote((input.shardColumn ?? key).name);
    conditions.push(shardCondition(dialect, column, window.shard));
  }
  const from: PagePosition | undefined = window.from;
  if (from !== undefined) {
    if (cursor !== undefined) {
      const c = quote(cursor.name);
      const fromCursor = next(from.cursor, cursor);
      const fromKey = next(from.key, key);
      // The first conjunct lets an index on the cursor skip what was read before.
      conditions.push(`${c} >= ${fromCursor}`, dialect.after(c, fromCursor, k, fromKey));
    } else conditions.push(`${k} > ${next(from.key, key)}`);
  }
  const selected = [
    ...(input.columns === undefined ? ['*'] : input.columns.map(quote)),
    `${cursor === undefined ? 'null' : dialect.asText(quote(cursor.name))} as ${quote(CURSOR_TEXT)}`,
    `${dialect.asText(k)} as ${quote(KEY_TEXT)}`,
  ];
  const where = conditions.length > 0 ? ` where ${conditions.join(' and ')}` : '';
  const order = cursor === undefined ? k : `${quote(cursor.name)}, ${k}`;
  return { text: `select ${selected.join(', ')} from ${input.relation}${where} order by ${order}`, values };
}

export const MAX_TEXT = 'max_cursor';

/** The cursor's current maximum, as text. */
export function maxCursorStatement(
  dialect: PostgresDialect,
  relation: string,
  cursor: PostgresColumn,
): Statement {
  checkOrderable(cursor, 'source.cursor');
  return {
    text: `select ${dialect.asText(`max(${quote(cursor.name)})`)} as ${quote(MAX_TEXT)} from ${relation}`,
    values: [],
  };
}

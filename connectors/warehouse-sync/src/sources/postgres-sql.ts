import type { PostgresFlavour } from './postgres-settings.js';
import { columnKind, typeName } from './postgres-values.js';
import { ISO_TIMESTAMP_PATTERN, type SqlDialect, type WindowColumn, type WindowSpec } from './window.js';

/** A result column: its name and type OID, as the server describes it. */
export interface PostgresColumn {
  name: string;
  oid: number;
}

export const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * What differs between PostgreSQL and Redshift in the statements the source sends: the window's
 * dialect, the session's settings and how a read-only transaction opens. Everything else is SQL
 * both accept (see docs/warehouse-sync.md for what Redshift lacks).
 */
export interface PostgresSql {
  flavour: PostgresFlavour;
  dialect: SqlDialect;
  /** The statements that set up a session: UTC, ISO dates, the timeout, the schema. */
  session(statementTimeoutMs: number, schema: string | undefined): string[];
  /** Opens the read-only transaction every read runs in. */
  begin: string;
  /** The type a text parameter is cast to, to compare with a column of this OID. */
  castType(oid: number): string;
}

const sessionCommon = (timeoutMs: number, schema: string | undefined) => [
  "set timezone to 'UTC'",
  "set datestyle to 'ISO, MDY'",
  // Floats as text with every digit, so a float cursor's position casts back to the same value.
  'set extra_float_digits to 3',
  `set statement_timeout to ${Math.max(0, Math.round(timeoutMs))}`,
  ...(schema === undefined ? [] : [`set search_path to ${quote(schema)}`]),
];

/**
 * A shard of rows by a column, computed the same way on PostgreSQL and Redshift (both have md5,
 * substr and strpos): the first four hex digits of the md5 of the value's text, modulo the count.
 */
function shardOf(text: (expression: string) => string) {
  return (expression: string, _column: WindowColumn, count: number) => {
    const hash = `md5(${text(expression)})`;
    const digit = (i: number) => `(strpos('0123456789abcdef', substr(${hash}, ${i}, 1)) - 1)`;
    return `mod(${digit(1)} * 4096 + ${digit(2)} * 256 + ${digit(3)} * 16 + ${digit(4)}, ${count})`;
  };
}

function dialectFor(warehouse: string, textType: string): SqlDialect {
  const asText = (expression: string) => `cast(${expression} as ${textType})`;
  return {
    warehouse,
    quote,
    placeholder: (index) => `$${index}`,
    cast: (placeholder, column) => `cast(${placeholder} as ${column.type})`,
    asText,
    nullText: `cast(null as ${textType})`,
    minusSeconds: (expression, seconds, column) =>
      column.kind === 'number'
        ? `${expression} - ${seconds}`
        : `${expression} - interval '${seconds} seconds'`,
    shard: shardOf(asText),
    isoText: {
      // POSIX regular expressions (~) on both; a zone-less text is read in the session's zone, UTC.
      test: (expression) => `${expression} ~ '${ISO_TIMESTAMP_PATTERN}'`,
      parse: (expression) => `cast(${expression} as timestamptz)`,
      column: { name: '', type: 'timestamptz', kind: 'timestamp' },
    },
    castHint: (expression) => `to_timestamp(${expression}, 'DD/MM/YYYY HH24:MI:SS')`,
  };
}

export const FLAVOURS: Record<PostgresFlavour, PostgresSql> = {
  postgres: {
    flavour: 'postgres',
    dialect: {
      ...dialectFor('PostgreSQL', 'text'),
      // A record literal (see postgres-record.ts); Redshift has no record type to print one.
      rowText: (expressions) => `cast(row(${expressions.join(', ')}) as text)`,
    },
    session: (timeoutMs, schema) => [...sessionCommon(timeoutMs, schema), "set intervalstyle to 'iso_8601'"],
    // One snapshot for the whole window, however long it takes to read.
    begin: 'begin isolation level repeatable read read only',
    castType: (oid) => typeName(oid),
  },
  redshift: {
    flavour: 'redshift',
    // Redshift's text is varchar(256), which would cut a long key: the widest varchar instead.
    dialect: dialectFor('Redshift', 'varchar(65535)'),
    // Redshift has no intervalstyle setting (it prints intervals one way).
    session: sessionCommon,
    // Redshift runs every transaction serializable; it takes READ ONLY on BEGIN (it has no SET TRANSACTION).
    begin: 'begin read only',
    castType: (oid) => (columnKind(oid) === 'text' ? 'varchar(65535)' : typeName(oid)),
  },
};

/** A column as the read window uses it. */
export function windowColumn(sql: PostgresSql, column: PostgresColumn): WindowColumn {
  return { name: column.name, type: sql.castType(column.oid), kind: columnKind(column.oid) };
}

/** The source's columns for the window. */
export function windowSpec(
  sql: PostgresSql,
  relation: string,
  key: PostgresColumn,
  cursor: PostgresColumn | undefined,
  shardColumn: PostgresColumn | undefined,
): WindowSpec {
  return {
    relation,
    key: windowColumn(sql, key),
    ...(cursor === undefined ? {} : { cursor: windowColumn(sql, cursor) }),
    ...(shardColumn === undefined ? {} : { shardColumn: windowColumn(sql, shardColumn) }),
  };
}

import { ISO_TIMESTAMP_PATTERN, type ColumnKind, type SqlDialect, type WindowColumn } from './window.js';

const NUMBER =
  /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL\(\d+,\s*\d+\))$/;

/** What a DuckDB type (as `describe` spells it) allows the window to do. */
export function duckDbKind(type: string): ColumnKind {
  if (/^TIMESTAMP/.test(type)) return 'timestamp';
  if (type === 'DATE') return 'date';
  if (NUMBER.test(type)) return 'number';
  if (type === 'VARCHAR') return 'text';
  if (/[[\]]|^(STRUCT|MAP|UNION|JSON|LIST)/.test(type)) return 'unorderable';
  return 'orderable';
}

export const duckDbColumn = (name: string, type: string): WindowColumn => ({
  name,
  type,
  kind: duckDbKind(type),
});

/** DuckDB's SQL: `$n` parameters, double-quoted names, `hash()` for shards. */
export const duckDbDialect: SqlDialect = {
  warehouse: 'DuckDB',
  quote: (name) => `"${name.replaceAll('"', '""')}"`,
  placeholder: (index) => `$${index}`,
  cast: (placeholder, column) => `cast(${placeholder} as ${column.type})`,
  asText: (expression) => `cast(${expression} as varchar)`,
  nullText: 'cast(null as varchar)',
  minusSeconds: (expression, seconds, column) =>
    column.kind === 'number' ? `${expression} - ${seconds}` : `${expression} - to_seconds(${seconds})`,
  shard: (expression, _column, count) => `hash(${expression}) % ${count}`,
  isoText: {
    test: (expression) =>
      `regexp_full_match(${expression}, '${ISO_TIMESTAMP_PATTERN}') and try_cast(${expression} as TIMESTAMPTZ) is not null`,
    // A strict cast: a value that is not a timestamp fails the query instead of dropping its row.
    parse: (expression) => `cast(${expression} as TIMESTAMPTZ)`,
    column: { name: '', type: 'TIMESTAMPTZ', kind: 'timestamp' },
  },
  castHint: (expression) => `strptime(${expression}, '%d/%m/%Y %H:%M:%S')`,
};

import {
  ISO_TIMESTAMP_PATTERN,
  type ColumnKind,
  type SqlDialect,
  type WindowColumn,
  type WindowSpec,
} from './window.js';

/** A result column as the driver describes it: the type is Snowflake's wire name (fixed, text, timestamp_ntz, …). */
export interface SnowflakeColumn {
  name: string;
  type: string;
  precision: number | null;
  scale: number | null;
}

export type Bind = string | number;

export interface Statement {
  sqlText: string;
  binds: Bind[];
}

export const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Cursor and key values travel as text; these formats keep every digit Snowflake stores. */
const TIMESTAMP_TEXT = 'YYYY-MM-DD HH24:MI:SS.FF9';
const ZONED_TIMESTAMP_TEXT = 'YYYY-MM-DD HH24:MI:SS.FF9 TZH:TZM';

/** The Snowflake type name a column has, as `describe()` reports it. */
export function typeName(column: SnowflakeColumn): string {
  switch (column.type) {
    case 'fixed':
      return `NUMBER(${column.precision ?? 38},${column.scale ?? 0})`;
    case 'real':
      return 'FLOAT';
    case 'text':
      return 'VARCHAR';
    case 'timestamp_ntz':
    case 'timestamp_ltz':
    case 'timestamp_tz':
    case 'time':
      return `${column.type.toUpperCase()}(${column.scale ?? 9})`;
    default:
      return column.type.toUpperCase();
  }
}

/** What a Snowflake column allows the window to do. */
function kindOf(column: SnowflakeColumn): ColumnKind {
  switch (column.type) {
    case 'fixed':
    case 'real':
      return 'number';
    case 'text':
      return 'text';
    case 'date':
      return 'date';
    case 'timestamp_ntz':
    case 'timestamp_ltz':
    case 'timestamp_tz':
      return 'timestamp';
    default:
      return 'unorderable';
  }
}

/** The type a `?` bind variable (sent as text) is cast to, to compare with the column. */
function castType(column: SnowflakeColumn): string {
  switch (column.type) {
    case 'fixed':
      return `NUMERIC(${column.precision ?? 38}, ${column.scale ?? 0})`;
    case 'real':
      return 'DOUBLE';
    case 'text':
      return 'VARCHAR';
    default:
      return column.type.toUpperCase();
  }
}

/** A Snowflake column as the read window uses it. */
export function windowColumn(column: SnowflakeColumn): WindowColumn {
  return { name: column.name, type: castType(column), kind: kindOf(column) };
}

/** Snowflake's SQL: `?` bind variables, double-quoted names, `hash()` for shards. */
export const snowflakeDialect: SqlDialect = {
  warehouse: 'Snowflake',
  quote,
  placeholder: () => '?',
  cast: (placeholder, column) => `cast(${placeholder} as ${column.type})`,
  // Cursor and key values travel as text in formats that keep every digit Snowflake stores.
  asText(expression, column) {
    if (column.type === 'TIMESTAMP_NTZ') return `to_varchar(${expression}, '${TIMESTAMP_TEXT}')`;
    if (column.type === 'TIMESTAMP_LTZ' || column.type === 'TIMESTAMP_TZ')
      return `to_varchar(${expression}, '${ZONED_TIMESTAMP_TEXT}')`;
    if (column.type === 'DATE') return `to_varchar(${expression}, 'YYYY-MM-DD')`;
    return `to_varchar(${expression})`;
  },
  nullText: 'null',
  minusSeconds: (expression, seconds, column) =>
    column.kind === 'number' ? `${expression} - ${seconds}` : `dateadd('second', ${-seconds}, ${expression})`,
  shard: (expression, _column, count) => `mod(abs(hash(${expression})), ${count})`,
  isoText: {
    test: (expression) =>
      `regexp_like(${expression}, '${ISO_TIMESTAMP_PATTERN}') and try_to_timestamp_tz(${expression}) is not null`,
    parse: (expression) => `to_timestamp_tz(${expression})`,
    column: { name: '', type: 'TIMESTAMP_TZ', kind: 'timestamp' },
  },
  castHint: (expression) => `to_timestamp(${expression}, 'DD/MM/YYYY HH24:MI:SS')`,
};

/** The source's columns for the window. */
export function windowSpec(
  relation: string,
  key: SnowflakeColumn,
  cursor: SnowflakeColumn | undefined,
  shardColumn: SnowflakeColumn | undefined,
): WindowSpec {
  return {
    relation,
    key: windowColumn(key),
    ...(cursor === undefined ? {} : { cursor: windowColumn(cursor) }),
    ...(shardColumn === undefined ? {} : { shardColumn: windowColumn(shardColumn) }),
  };
}

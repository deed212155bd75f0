import {
  DuckDBDateValue,
  DuckDBDecimalType,
  DuckDBDecimalValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBTimeValue,
  DuckDBTypeId,
  type DuckDBConnection,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';

/**
 * The few Snowflake dialect pieces the Snowflake source sends, made real in DuckDB as types and
 * macros (no rewriting of SQL text): the timestamp type names, `to_varchar` with and without a
 * format, and `dateadd('second', n, x)`. `hash`, `mod`, `abs`, `cast(? as NUMERIC(p, s))` are
 * shared by both. Timestamps with a zone are not rendered by this fake.
 */
const DIALECT = [
  `create type timestamp_ntz as timestamp`,
  `create type timestamp_ltz as timestamptz`,
  `create type timestamp_tz as timestamptz`,
  // Without a format Snowflake renders a timestamp in the session's output format, which keeps
  // milliseconds only (YYYY-MM-DD HH24:MI:SS.FF3); other types as their plain text.
  `create macro to_varchar(x) as case when typeof(x) = 'TIMESTAMP'
     then strftime(try_cast(cast(x as varchar) as timestamp), '%Y-%m-%d %H:%M:%S.%g')
     else cast(x as varchar) end,
   (x, format) as strftime(x,
     replace(replace(replace(replace(replace(replace(replace(replace(format,
       'YYYY', '%Y'), 'MM', '%m'), 'DD', '%d'), 'HH24', '%H'), 'MI', '%M'), 'SS', '%S'),
       'FF9', '%n'), 'FF3', '%g'))`,
  `create macro regexp_like(s, pattern) as regexp_full_match(s, pattern)`,
  `create macro try_to_timestamp_tz(s) as try_cast(s as timestamptz)`,
  `create macro to_timestamp_tz(s) as cast(s as timestamptz)`,
  `create macro dateadd(part, n, x) as case lower(part)
     when 'second' then x + to_seconds(n)
     else error('the fake Snowflake supports dateadd(''second'', n, x) only') end`,
];

export async function installDialect(connection: DuckDBConnection): Promise<void> {
  for (const statement of DIALECT) await connection.run(statement);
}

/** One entry of a result's `rowtype`, as the service describes a column. */
export interface RowType {
  name: string;
  database: string;
  schema: string;
  table: string;
  type: string;
  precision: number | null;
  scale: number | null;
  length: number | null;
  byteLength: number | null;
  nullable: boolean;
  collation: null;
}

const INTEGERS = new Set([
  DuckDBTypeId.TINYINT,
  DuckDBTypeId.SMALLINT,
  DuckDBTypeId.INTEGER,
  DuckDBTypeId.BIGINT,
  DuckDBTypeId.UTINYINT,
  DuckDBTypeId.USMALLINT,
  DuckDBTypeId.UINTEGER,
  DuckDBTypeId.UBIGINT,
  DuckDBTypeId.HUGEINT,
  DuckDBTypeId.UHUGEINT,
]);

/** The Snowflake type a DuckDB column is reported as. */
export function rowTypeOf(name: string, type: DuckDBType): RowType {
  const column = {
    name,
    database: 'FAKE_DB',
    schema: 'PUBLIC',
    table: '',
    precision: null,
    scale: null,
    length: null,
    byteLength: null,
    nullable: true,
    collation: null,
  } as const;
  if (INTEGERS.has(type.typeId)) return { ...column, type: 'fixed', precision: 38, scale: 0 };
  if (type instanceof DuckDBDecimalType)
    return { ...column, type: 'fixed', precision: type.width, scale: type.scale };
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return { ...column, type: 'boolean' };
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return { ...column, type: 'real' };
    case DuckDBTypeId.DATE:
      return { ...column, type: 'date' };
    case DuckDBTypeId.TIME:
      return { ...column, type: 'time', scale: 9 };
    case DuckDBTypeId.TIMESTAMP:
      return { ...column, type: 'timestamp_ntz', scale: 9 };
    case DuckDBTypeId.TIMESTAMP_TZ:
      return { ...column, type: 'timestamp_ltz', scale: 9 };
    default:
      return { ...column, type: 'text', length: 16777216, byteLength: 16777216 };
  }
}

/** Seconds and nanoseconds as the service writes a time value: `1763798400.123456000`. */
function secondsText(micros: bigint): string {
  const million = 1_000_000n;
  let seconds = micros / million;
  let fraction = micros % million;
  if (fraction < 0n) {
    seconds -= 1n;
    fraction += million;
  }
  return `${seconds}.${(fraction * 1000n).toString().padStart(9, '0')}`;
}

/** A value as it travels in a JSON result: always text (or null), like the real service. */
export function wireValue(value: DuckDBValue, type: RowType): string | null {
  if (value === null) return null;
  if (type.type === 'boolean') return value === true ? '1' : '0';
  if (value instanceof DuckDBTimestampValue || value instanceof DuckDBTimestampTZValue)
    return secondsText(value.micros);
  if (value instanceof DuckDBTimeValue) return secondsText(value.micros);
  if (value instanceof DuckDBDateValue) return String(value.days);
  if (value instanceof DuckDBDecimalValue) return value.toString();
  return String(value);
}

/** A Snowflake bind variable (`{type, value}`, value as text) as a DuckDB parameter. */
export function bindValue(bind: { type: string; value: string | null }): DuckDBValue {
  if (bind.value === null) return null;
  switch (bind.type) {
    case 'TEXT':
      return bind.value;
    case 'FIXED':
      return BigInt(bind.value);
    case 'REAL':
      return Number(bind.value);
    case 'BOOLEAN':
      return bind.value === 'true' || bind.value === '1';
    default:
      throw new Error(`bind type ${bind.type} is not supported by the fake`);
  }
}

export interface SnowflakeFailure {
  code: string;
  sqlState: string;
  message: string;
}

/** A DuckDB error as the Snowflake error a similar mistake gives (code, SQL state, wording). */
export function failureFor(error: unknown): SnowflakeFailure {
  const text = error instanceof Error ? error.message : String(error);
  const firstLine = text.split('\n')[0] ?? text;
  const table = /^Catalog Error: Table with name (\S+) does not exist/.exec(text);
  if (table)
    return {
      code: '002003',
      sqlState: '42S02',
      message: `SQL compilation error:\nObject '${(table[1] ?? '').toUpperCase()}' does not exist or not authorized.`,
    };
  const column = /^Binder Error: Referenced column "?([^"\s]+)"? not found/.exec(text);
  if (column)
    return {
      code: '000904',
      sqlState: '42000',
      message: `SQL compilation error: error line 1 at position 0\ninvalid identifier '${(column[1] ?? '').toUpperCase()}'`,
    };
  if (text.startsWith('Parser Error:'))
    return { code: '001003', sqlState: '42000', message: `SQL compilation error:\n${firstLine}` };
  if (text.startsWith('Conversion Error:')) return { code: '100038', sqlState: '22018', message: firstLine };
  return { code: '000603', sqlState: 'XX000', message: `SQL execution error: ${firstLine}` };
}

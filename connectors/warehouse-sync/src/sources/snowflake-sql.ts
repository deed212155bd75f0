import type { PagePosition, ReadWindow } from './source.js';

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

const ORDERABLE = new Set([
  'fixed',
  'real',
  'text',
  'date',
  'timestamp_ntz',
  'timestamp_ltz',
  'timestamp_tz',
]);

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

function checkOrderable(column: SnowflakeColumn, role: string): void {
  if (!ORDERABLE.has(column.type)) {
    throw new Error(
      `the ${role} column "${column.name}" is ${typeName(column)}; use a number, text, date or timestamp column`,
    );
  }
}

/** A value of the column's type as text that `castBind` reads back to the same value. */
function asText(column: SnowflakeColumn, name = quote(column.name)): string {
  switch (column.type) {
    case 'timestamp_ntz':
      return `to_varchar(${name}, '${TIMESTAMP_TEXT}')`;
    case 'timestamp_ltz':
    case 'timestamp_tz':
      return `to_varchar(${name}, '${ZONED_TIMESTAMP_TEXT}')`;
    case 'date':
      return `to_varchar(${name}, 'YYYY-MM-DD')`;
    default:
      return `to_varchar(${name})`;
  }
}

/** A `?` bind variable (sent as text) read as the column's type. */
function castBind(column: SnowflakeColumn): string {
  switch (column.type) {
    case 'fixed':
      return `cast(? as NUMERIC(${column.precision ?? 38}, ${column.scale ?? 0}))`;
    case 'real':
      return 'cast(? as DOUBLE)';
    case 'text':
      return 'cast(? as VARCHAR)';
    case 'date':
      return 'cast(? as DATE)';
    default:
      return `cast(? as ${column.type.toUpperCase()})`;
  }
}

const isTemporal = (column: SnowflakeColumn) => column.type === 'date' || column.type.startsWith('timestamp');

/** The exclusive lower bound `after`, moved back by the lookback. */
function lowerBound(cursor: SnowflakeColumn, lookbackSeconds: number): string {
  if (lookbackSeconds === 0) return castBind(cursor);
  if (isTemporal(cursor)) return `dateadd('second', ${-lookbackSeconds}, ${castBind(cursor)})`;
  if (cursor.type === 'fixed' || cursor.type === 'real') return `${castBind(cursor)} - ${lookbackSeconds}`;
  throw new Error(
    `a lookback needs a timestamp, date or number cursor; "${cursor.name}" is ${typeName(cursor)}`,
  );
}

export interface PageQueryInput {
  /** `(select …) as source_rows`. */
  relation: string;
  cursor?: SnowflakeColumn;
  key: SnowflakeColumn;
  shardColumn?: SnowflakeColumn;
  window: ReadWindow;
  from?: PagePosition;
}

export const CURSOR_TEXT = '__idmerge_cursor';
export const KEY_TEXT = '__idmerge_key';

/**
 * One page of the window, keyset-paged on (cursor, key): rows strictly after `from`, in order,
 * at most `pageSize` of them, each with its cursor and key as text.
 */
export function pageStatement(input: PageQueryInput): Statement {
  const { cursor, key, window, from } = input;
  checkOrderable(key, 'primary key');
  if (cursor !== undefined) checkOrderable(cursor, 'cursor');
  if (!Number.isSafeInteger(window.pageSize) || window.pageSize < 1)
    throw new Error(`page size must be a positive integer, not ${window.pageSize}`);
  const conditions: string[] = [];
  const binds: Bind[] = [];
  if (cursor !== undefined) {
    if (window.after !== undefined) {
      conditions.push(`${quote(cursor.name)} > ${lowerBound(cursor, window.lookbackSeconds ?? 0)}`);
      binds.push(window.after);
    }
    if (window.upTo !== undefined) {
      conditions.push(`${quote(cursor.name)} <= ${castBind(cursor)}`);
      binds.push(window.upTo);
    }
  }
  if (window.shard !== undefined) {
    const { count, index } = window.shard;
    if (!Number.isSafeInteger(count) || !Number.isSafeInteger(index) || index < 0 || index >= count)
      throw new Error(`shard ${index} of ${count} does not exist`);
    const column = input.shardColumn ?? key;
    conditions.push(`mod(abs(hash(${quote(column.name)})), ${count}) = ${index}`);
  }
  if (from !== undefined) {
    if (cursor !== undefined) {
      const c = quote(cursor.name);
      conditions.push(
        `(${c} > ${castBind(cursor)} or (${c} = ${castBind(cursor)} and ${quote(key.name)} > ${castBind(key)}))`,
      );
      binds.push(from.cursor, from.cursor, from.key);
    } else {
      conditions.push(`${quote(key.name)} > ${castBind(key)}`);
      binds.push(from.key);
    }
  }
  const cursorText = cursor === undefined ? 'null' : asText(cursor);
  const where = conditions.length > 0 ? ` where ${conditions.join(' and ')}` : '';
  const order = cursor === undefined ? quote(key.name) : `${quote(cursor.name)}, ${quote(key.name)}`;
  return {
    sqlText:
      `select *, ${cursorText} as ${quote(CURSOR_TEXT)}, ${asText(key)} as ${quote(KEY_TEXT)} ` +
      `from ${input.relation}${where} order by ${order} limit ${window.pageSize}`,
    binds,
  };
}

export const MAX_TEXT = 'max_cursor';

/** The cursor's current maximum, as text. */
export function maxCursorStatement(relation: string, cursor: SnowflakeColumn): Statement {
  checkOrderable(cursor, 'cursor');
  const maximum = asText(cursor, `max(${quote(cursor.name)})`);
  return { sqlText: `select ${maximum} as ${quote(MAX_TEXT)} from ${relation}`, binds: [] };
}

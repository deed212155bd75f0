import type { PagePosition, ReadWindow } from './source.js';
import type { BigQueryField } from './bigquery-values.js';

/** Extra columns of the window query: the row's position as text, read back into checkpoints. */
export const CURSOR_TEXT = '__idmerge_cursor';
export const KEY_TEXT = '__idmerge_key';

/** A GoogleSQL statement with named parameters (`@name`), every value sent as STRING and cast in SQL. */
export interface BigQueryStatement {
  query: string;
  params: Record<string, string>;
}

export const quote = (name: string) => `\`${name.replaceAll('`', '\\`')}\``;

/** The GoogleSQL name of a schema type, for CAST. */
export function castType(field: BigQueryField): string {
  switch (field.type) {
    case 'INTEGER':
      return 'INT64';
    case 'FLOAT':
      return 'FLOAT64';
    case 'BOOLEAN':
      return 'BOOL';
    default:
      return field.type;
  }
}

/** `column > (after − lookback)`, with the subtraction each cursor type allows. */
function lowerBound(column: BigQueryField, lookbackSeconds: number): string {
  const seconds = Math.max(0, Math.floor(lookbackSeconds));
  const after = `cast(@after as ${castType(column)})`;
  if (seconds === 0) return after;
  switch (column.type) {
    case 'TIMESTAMP':
      return `timestamp_sub(${after}, interval ${seconds} second)`;
    case 'DATETIME':
      return `datetime_sub(${after}, interval ${seconds} second)`;
    case 'DATE':
      return `date_sub(${after}, interval ${Math.ceil(seconds / 86_400)} day)`;
    case 'INTEGER':
    case 'INT64':
    case 'FLOAT':
    case 'FLOAT64':
    case 'NUMERIC':
    case 'BIGNUMERIC':
      return `${after} - ${seconds}`;
    default:
      throw new Error(
        `lookback: a ${column.type} cursor cannot go back ${seconds} seconds; use a timestamp or number cursor, or lookback: 0s`,
      );
  }
}

export function maxCursorStatement(relation: string, cursor: BigQueryField): BigQueryStatement {
  return { query: `select cast(max(${quote(cursor.name)}) as string) as m from ${relation}`, params: {} };
}

/**
 * The whole window in one query ordered by (cursor, key), read page by page through the API's
 * page tokens. A resumed run starts strictly after its checkpoint, never with OFFSET.
 */
export function windowStatement(input: {
  relation: string;
  cursor?: BigQueryField;
  key: BigQueryField;
  shardColumn?: BigQueryField;
  window: ReadWindow;
  from?: PagePosition;
}): BigQueryStatement {
  const { relation, cursor, key, shardColumn, window, from } = input;
  const conditions: string[] = [];
  const params: Record<string, string> = {};
  const keyText = quote(key.name);
  if (cursor !== undefined) {
    const cursorText = quote(cursor.name);
    if (window.after !== undefined) {
      conditions.push(`${cursorText} > ${lowerBound(cursor, window.lookbackSeconds ?? 0)}`);
      params.after = window.after;
    }
    if (window.upTo !== undefined) {
      conditions.push(`${cursorText} <= cast(@upTo as ${castType(cursor)})`);
      params.upTo = window.upTo;
    }
    if (from !== undefined) {
      conditions.push(
        `(${cursorText} > cast(@fromCursor as ${castType(cursor)}) or (${cursorText} = cast(@fromCursor as ${castType(cursor)}) and ${keyText} > cast(@fromKey as ${castType(key)})))`,
      );
      params.fromCursor = from.cursor;
      params.fromKey = from.key;
    }
  } else if (from !== undefined) {
    conditions.push(`${keyText} > cast(@fromKey as ${castType(key)})`);
    params.fromKey = from.key;
  }
  if (window.shard !== undefined && shardColumn !== undefined) {
    conditions.push(
      `mod(abs(farm_fingerprint(cast(${quote(shardColumn.name)} as string))), ${window.shard.count}) = ${window.shard.index}`,
    );
  }
  const where = conditions.length > 0 ? ` where ${conditions.join(' and ')}` : '';
  const cursorSelect =
    cursor === undefined ? 'cast(null as string)' : `cast(${quote(cursor.name)} as string)`;
  const order = cursor === undefined ? keyText : `${quote(cursor.name)}, ${keyText}`;
  return {
    query:
      `select *, ${cursorSelect} as ${CURSOR_TEXT}, cast(${keyText} as string) as ${KEY_TEXT} ` +
      `from ${relation}${where} order by ${order}`,
    params,
  };
}

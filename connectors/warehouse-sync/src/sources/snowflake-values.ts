import type { Row } from './source.js';
import type { SnowflakeColumn } from './snowflake-sql.js';

/**
 * A number column's value, fetched as text so nothing is rounded on the way: integers that fit a
 * JS number become numbers, larger ones bigints (exact); decimals and floats become numbers.
 */
function numberFromText(text: string, column: SnowflakeColumn): number | bigint {
  if (column.type === 'fixed' && (column.scale ?? 0) === 0) {
    const value = Number(text);
    return Number.isSafeInteger(value) ? value : BigInt(text);
  }
  return Number(text);
}

/**
 * A row as the sink expects it, without the `omit` columns. Timestamps and dates become plain Dates: the driver's own carry a
 * `toJSON` that renders in the session's output format, which would leak into properties.
 */
export function rowFromDriver(
  raw: Record<string, unknown>,
  columns: ReadonlyMap<string, SnowflakeColumn>,
  omit: ReadonlySet<string> = new Set(),
): Row {
  const row: Row = {};
  for (const [name, value] of Object.entries(raw)) {
    if (omit.has(name)) continue;
    const column = columns.get(name);
    if (value === null || value === undefined) row[name] = null;
    else if (
      column !== undefined &&
      (column.type === 'fixed' || column.type === 'real') &&
      typeof value === 'string'
    )
      row[name] = numberFromText(value, column);
    else if (value instanceof Date) row[name] = new Date(value.getTime());
    else row[name] = value;
  }
  return row;
}

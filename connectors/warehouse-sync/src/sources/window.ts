import type { PagePosition, ReadWindow } from './source.js';

/**
 * The read window of a sync, written once for every SQL warehouse. A source describes its cursor
 * and key columns as `WindowColumn`s, implements `SqlDialect` (quoting, parameters, casts,
 * timestamp arithmetic, the shard hash) and runs the statements built here; it never writes a
 * condition of its own.
 *
 * What the window is, for every warehouse:
 * - Rows whose cursor lies in [after − lookback, upTo], ordered by (cursor, key). The lower bound
 *   is inclusive: a row committed late with the last bound's own cursor value is read by the next
 *   run even with no lookback (the bound's ties are read again; `$insert_id` deduplicates them).
 * - Then the rows whose cursor is NULL, ordered by key (`segment: 'null'`): every run reads them,
 *   so they are never skipped silently; the run counts them, and dead-letters or delivers them.
 * - Last the rows whose primary key is NULL (`segment: 'null_key'`), with a cursor in the window or
 *   none: a NULL key has no place in the (cursor, key) order, so these rows are never a position
 *   and never compared with one; they are read in one unordered query, and the run dead-letters
 *   them. Both ordered segments hold only rows with a key.
 * - A resumed run starts strictly after its checkpoint's (cursor, key), in the checkpoint's segment.
 * - A text cursor is read as a timestamp when its values are ISO-8601 (checked by
 *   `maxCursorStatement` before a run starts); any other text, and any type the lookback cannot
 *   go back on, is refused with the cast to write in the query.
 * - `--shard i/N` keeps rows whose shard column hashes to i (the dialect's hash, mod N).
 */

/** How the window can use a column: what it may be compared with and moved back on. */
export type ColumnKind =
  | 'timestamp'
  | 'date'
  | 'number'
  | 'text'
  /** Ordered, but neither a time nor a number (UUID, boolean, time of day, bytes): a key, not a cursor. */
  | 'orderable'
  /** Not ordered (JSON, structs, arrays, variants): neither a key nor a cursor. */
  | 'unorderable';

/** A column of the source's result as the window uses it. */
export interface WindowColumn {
  /** The column's name, exactly as the warehouse reports it. */
  name: string;
  /** The type a text parameter is cast to, to compare with the column (in the dialect's spelling). */
  type: string;
  kind: ColumnKind;
}

/** What a warehouse's SQL differs in. Every method returns SQL text; none runs anything. */
export interface SqlDialect {
  /** The warehouse's name, for messages (DuckDB, Snowflake, BigQuery, PostgreSQL). */
  readonly warehouse: string;
  quote(identifier: string): string;
  /** The placeholder of the `index`-th parameter (1-based): `?`, `$1`, `@p1`. */
  placeholder(index: number): string;
  /** `placeholder` (a text parameter) read as `column.type`. */
  cast(placeholder: string, column: WindowColumn): string;
  /** `expression` (a value of `column`'s type) as text that `cast` reads back to the same value. */
  asText(expression: string, column: WindowColumn): string;
  /** A NULL of the type `asText` returns. */
  readonly nullText: string;
  /** `expression` moved back by `seconds` (a whole number > 0); only for timestamp, date and number kinds. */
  minusSeconds(expression: string, seconds: number, column: WindowColumn): string;
  /** An integer in [0, count) that hashes `expression` (the shard column's value). */
  shard(expression: string, column: WindowColumn, count: number): string;
  /** Text cursors holding ISO-8601 timestamps. */
  readonly isoText: {
    /** True when the text `expression` is an ISO-8601 timestamp (or date) that `parse` reads. */
    test(expression: string): string;
    /** The text `expression` as a timestamp (with its offset; UTC when it has none). */
    parse(expression: string): string;
    /** The parsed value's column type (name unused). */
    readonly column: WindowColumn;
  };
  /** A conversion to suggest in messages: the text column `expression` as a timestamp. */
  castHint(expression: string): string;
  /**
   * The values of `expressions` as one text value (a warehouse that can: PostgreSQL's record
   * literal), for a source that reads a row faster as one value than as many.
   */
  rowText?(expressions: readonly string[]): string;
}

/** The source's columns the window reads. */
export interface WindowSpec {
  /** What is read, as a subquery with an alias: `(select …) as source_rows`. */
  relation: string;
  cursor?: WindowColumn;
  key: WindowColumn;
  /** The column `window.shard` hashes; required when the window has a shard. */
  shardColumn?: WindowColumn;
}

/** The parts of a window: rows with a cursor in range, then with a NULL cursor, then with a NULL key. */
export type Segment = 'window' | 'null' | 'null_key';

/** A statement with positional text parameters, in placeholder order. */
export interface WindowStatement {
  text: string;
  params: string[];
}

/** ISO-8601 dates and date-times, with an optional fraction and offset (no backslashes: portable SQL). */
export const ISO_TIMESTAMP_PATTERN =
  '^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?)?(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)?$';

/** Names of the position columns each row of a window statement carries after its data. */
export const CURSOR_TEXT = '__idmerge_cursor';
export const KEY_TEXT = '__idmerge_key';
/** The one column of a window statement read `asRow`: the row's values, then its position columns. */
export const ROW_TEXT = '__idmerge_row';
/** Columns of `maxCursorStatement`. */
export const MAX_COLUMNS = { max: 'max_cursor', notIso: 'not_iso', example: 'not_iso_example' } as const;

/** Collects a statement's parameters and hands out their placeholders. */
export class WindowParams {
  readonly values: string[] = [];
  constructor(private readonly dialect: SqlDialect) {}
  /** A parameter holding `value`, cast to `column`'s type. */
  bind(value: string, column: WindowColumn): string {
    this.values.push(value);
    return this.dialect.cast(this.dialect.placeholder(this.values.length), column);
  }
  /** A copy, to add conditions to one statement without changing the others. */
  fork(): WindowParams {
    const copy = new WindowParams(this.dialect);
    copy.values.push(...this.values);
    return copy;
  }
}

/** What a cursor is compared as: the column itself, or its ISO-8601 text parsed as a timestamp. */
export interface CursorExpression {
  sql: string;
  column: WindowColumn;
}

const CURSOR_KINDS: ReadonlySet<ColumnKind> = new Set(['timestamp', 'date', 'number', 'text']);

/** The cursor as the window compares it, or a refusal naming the column, its type and the fix. */
export function cursorExpression(dialect: SqlDialect, cursor: WindowColumn): CursorExpression {
  const quoted = dialect.quote(cursor.name);
  if (cursor.kind === 'text') return { sql: dialect.isoText.parse(quoted), column: dialect.isoText.column };
  if (CURSOR_KINDS.has(cursor.kind)) return { sql: quoted, column: cursor };
  throw new Error(
    `cursor "${cursor.name}" is ${cursor.type}: a cursor must be a timestamp, date or number ` +
      `(or ISO-8601 text), which the lookback can go back on; convert it in the query ` +
      `(select *, <conversion> as ${cursor.name}_at …) and name that column as the cursor`,
  );
}

/** The checks every source makes before it reads, with what was wrong and what to do. */
export function checkWindow(spec: WindowSpec, window: ReadWindow): void {
  if (!Number.isSafeInteger(window.pageSize) || window.pageSize < 1)
    throw new Error(`page_size must be a positive whole number, not ${window.pageSize}`);
  const lookback = window.lookbackSeconds ?? 0;
  if (!Number.isSafeInteger(lookback) || lookback < 0)
    throw new Error(`lookback must be a whole number of seconds ≥ 0, not ${lookback}`);
  if (spec.key.kind === 'unorderable')
    throw new Error(
      `primary_key "${spec.key.name}" is ${spec.key.type}, which cannot be ordered; use a number, text, date or timestamp column`,
    );
  if (window.shard !== undefined) {
    const { index, count, column } = window.shard;
    if (
      !Number.isSafeInteger(count) ||
      count < 1 ||
      !Number.isSafeInteger(index) ||
      index < 0 ||
      index >= count
    )
      throw new Error(`shard ${index}/${count} does not exist: give i/N with 0 ≤ i < N`);
    if (spec.shardColumn === undefined || spec.shardColumn.name !== column)
      throw new Error(`shard column "${column}": the source did not find it among the query's columns`);
  }
  if (window.from?.nullCursor === true && spec.cursor === undefined)
    throw new Error(
      'the checkpoint is in the NULL-cursor rows, but the sync has no cursor; run with --full-refresh',
    );
}

/** The segments a window reads from its starting position on. */
export function segmentsToRead(spec: WindowSpec, window: ReadWindow): Segment[] {
  if (spec.cursor === undefined) return ['window', 'null_key'];
  return window.from?.nullCursor === true ? ['null', 'null_key'] : ['window', 'null', 'null_key'];
}

/** A segment's conditions, order and position columns, to run as one query or in slices. */
export interface SegmentSql {
  /** Conditions to AND together (none: every row). */
  conditions: string[];
  /** The `order by` list. */
  order: string;
  /** The first ordering expression and its column: rows sharing its value are adjacent. */
  leading: CursorExpression;
  /**
   * The select list: `columns` (all when undefined), then CURSOR_TEXT and KEY_TEXT; `asRow`: the
   * same values (`columns` named) as the dialect's one row text, ROW_TEXT.
   */
  select(columns?: readonly string[], options?: { asRow?: boolean }): string;
  /** Its rows have positions (false for `null_key`: its pages have none, and it is read unsliced). */
  positioned: boolean;
}

/** The rows of `segment` strictly after `from` (when it is in this segment), as SQL pieces. */
export function segmentSql(
  dialect: SqlDialect,
  spec: WindowSpec,
  window: ReadWindow,
  segment: Segment,
  params: WindowParams,
): SegmentSql {
  const key: CursorExpression = { sql: dialect.quote(spec.key.name), column: spec.key };
  const cursor = spec.cursor === undefined ? undefined : cursorExpression(dialect, spec.cursor);
  const conditions: string[] = [];
  const from =
    segment !== 'null_key' &&
    window.from !== undefined &&
    (window.from.nullCursor === true) === (segment === 'null')
      ? window.from
      : undefined;
  // The cursor's range [after − lookback, upTo], as conditions to AND together.
  const inRange = (c: string, column: WindowColumn): string[] => {
    const range: string[] = [];
    if (window.after !== undefined) {
      const after = params.bind(window.after, column);
      const lookback = window.lookbackSeconds ?? 0;
      range.push(`${c} >= ${lookback > 0 ? dialect.minusSeconds(after, lookback, column) : after}`);
    }
    if (window.upTo !== undefined) range.push(`${c} <= ${params.bind(window.upTo, column)}`);
    return range;
  };
  if (segment === 'null_key') {
    conditions.push(`${key.sql} is null`);
    const range = cursor === undefined ? [] : inRange(cursor.sql, cursor.column);
    if (range.length > 0)
      conditions.push(`((${range.join(' and ')}) or ${dialect.quote(spec.cursor?.name ?? '')} is null)`);
  } else if (cursor !== undefined && segment === 'window') {
    const c = cursor.sql;
    conditions.push(...inRange(c, cursor.column), `${key.sql} is not null`);
    if (window.after === undefined && window.upTo === undefined) conditions.push(`${c} is not null`);
    if (from !== undefined) {
      // The first conjunct alone lets a warehouse skip what was read before (zone maps, clustering).
      conditions.push(
        `${c} >= ${params.bind(from.cursor, cursor.column)}`,
        `(${c} > ${params.bind(from.cursor, cursor.column)} or ${key.sql} > ${params.bind(from.key, key.column)})`,
      );
    }
  } else {
    if (cursor !== undefined) conditions.push(`${dialect.quote(spec.cursor?.name ?? '')} is null`);
    conditions.push(`${key.sql} is not null`);
    if (from !== undefined) conditions.push(`${key.sql} > ${params.bind(from.key, key.column)}`);
  }
  if (window.shard !== undefined && spec.shardColumn !== undefined) {
    const column = spec.shardColumn;
    conditions.push(
      `${dialect.shard(dialect.quote(column.name), column, window.shard.count)} = ${window.shard.index}`,
    );
  }
  const ordered = cursor !== undefined && segment === 'window';
  const cursorText = ordered ? dialect.asText(cursor.sql, cursor.column) : dialect.nullText;
  return {
    positioned: segment !== 'null_key',
    conditions,
    order: ordered ? `${cursor.sql}, ${key.sql}` : key.sql,
    leading: ordered ? cursor : key,
    select: (columns, { asRow = false } = {}) => {
      const values = columns === undefined ? ['*'] : columns.map((name) => dialect.quote(name));
      const keyText = dialect.asText(key.sql, key.column);
      if (!asRow)
        return [
          ...values,
          `${cursorText} as ${dialect.quote(CURSOR_TEXT)}`,
          `${keyText} as ${dialect.quote(KEY_TEXT)}`,
        ].join(', ');
      if (dialect.rowText === undefined)
        throw new Error(`${dialect.warehouse} has no row text: read its rows column by column`);
      if (columns === undefined)
        throw new Error(`${dialect.warehouse}: a row is read as one text only with its columns named`);
      return `${dialect.rowText([...values, cursorText, keyText])} as ${dialect.quote(ROW_TEXT)}`;
    },
  };
}

/** One query for a segment: its rows in order, optionally at most `limit` of them. */
export function segmentStatement(
  dialect: SqlDialect,
  spec: WindowSpec,
  window: ReadWindow,
  segment: Segment,
  options: { columns?: readonly string[]; limit?: number; asRow?: boolean } = {},
): WindowStatement {
  const params = new WindowParams(dialect);
  const sql = segmentSql(dialect, spec, window, segment, params);
  const where = sql.conditions.length > 0 ? ` where ${sql.conditions.join(' and ')}` : '';
  const limit = options.limit === undefined ? '' : ` limit ${options.limit}`;
  return {
    text: `select ${sql.select(options.columns, { asRow: options.asRow })} from ${spec.relation}${where} order by ${sql.order}${limit}`,
    params: params.values,
  };
}

/**
 * The cursor's current maximum as text (MAX_COLUMNS.max); for a text cursor also how many values
 * are not ISO-8601 and one of them, which `maxCursorFrom` refuses.
 */
export function maxCursorStatement(dialect: SqlDialect, spec: WindowSpec): WindowStatement {
  if (spec.cursor === undefined) throw new Error('the sync has no cursor, so it has no maximum');
  const cursor = cursorExpression(dialect, spec.cursor);
  const max = (value: string) =>
    `${dialect.asText(`max(${value})`, cursor.column)} as ${dialect.quote(MAX_COLUMNS.max)}`;
  if (spec.cursor.kind !== 'text')
    return { text: `select ${max(cursor.sql)} from ${spec.relation}`, params: [] };
  const raw = dialect.quote(spec.cursor.name);
  const iso = dialect.isoText.test(raw);
  const bad = `${raw} is not null and not (${iso})`;
  // Only ISO values are parsed: the parse is strict, so that a row is never dropped by it.
  const columns = [
    max(`case when ${iso} then ${cursor.sql} end`),
    `sum(case when ${bad} then 1 else 0 end) as ${dialect.quote(MAX_COLUMNS.notIso)}`,
    `min(case when ${bad} then ${raw} end) as ${dialect.quote(MAX_COLUMNS.example)}`,
  ];
  return { text: `select ${columns.join(', ')} from ${spec.relation}`, params: [] };
}

/** The maximum from the row `maxCursorStatement` returned; refuses a text cursor that is not ISO-8601. */
export function maxCursorFrom(
  dialect: SqlDialect,
  spec: WindowSpec,
  row: Record<string, unknown> | undefined,
): string | undefined {
  const notIso = Number(String(row?.[MAX_COLUMNS.notIso] ?? 0));
  if (spec.cursor !== undefined && notIso > 0) {
    const name = spec.cursor.name;
    throw new Error(
      `cursor "${name}" is ${spec.cursor.type} and ${notIso} of its values are not ISO-8601 timestamps ` +
        `(e.g. ${JSON.stringify(String(row?.[MAX_COLUMNS.example]))}), so the window cannot be placed on it; ` +
        `convert it in the query, e.g. select *, ${dialect.castHint(dialect.quote(name))} as ${name}_at …, ` +
        `and set cursor: ${name}_at (a number stored as text: cast it to a number type the same way)`,
    );
  }
  const value = row?.[MAX_COLUMNS.max];
  return value === null || value === undefined || value === '' ? undefined : String(value);
}

/** Whether two positions are the same (cursor, key) in the same segment. */
export function samePosition(a: PagePosition, b: PagePosition): boolean {
  return a.key === b.key && a.cursor === b.cursor && (a.nullCursor === true) === (b.nullCursor === true);
}

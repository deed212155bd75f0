import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { ColumnInfo, Page, ReadWindow, Row, WarehouseSource } from './source.js';

export interface DuckDbSourceOptions {
  database: string;
  query?: string;
  table?: string;
  cursor?: string;
  primaryKey: string;
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** A page of rows with the synthetic position columns taken off, and its last position. */
function toPage(rows: Row[]): Page {
  const lastRow = rows[rows.length - 1] as Row;
  const last = { cursor: String(lastRow.__idmerge_cursor ?? ''), key: String(lastRow.__idmerge_key) };
  for (const row of rows) {
    delete row.__idmerge_cursor;
    delete row.__idmerge_key;
  }
  return { rows, last };
}

/**
 * The embedded default warehouse: a DuckDB file, or `:memory:` with CSV/Parquet/JSON files read by
 * the query. Pages are keyset-paged on (cursor, primary key), so ties on the cursor never lose or
 * repeat a row at a page boundary.
 */
export function createDuckDbSource(options: DuckDbSourceOptions): WarehouseSource {
  let instance: DuckDBInstance | undefined;
  let connection: DuckDBConnection | undefined;
  const base = options.query ?? `select * from ${options.table ?? ''}`;
  const relation = `(${base}) as source_rows`;
  const cursor = options.cursor === undefined ? undefined : quote(options.cursor);
  const key = quote(options.primaryKey);
  const types = new Map<string, string>();

  function db(): DuckDBConnection {
    if (connection === undefined) throw new Error('the DuckDB source is not connected; call connect() first');
    return connection;
  }

  async function typeOf(column: string): Promise<string> {
    if (types.size === 0) for (const c of await describe()) types.set(c.name, c.type);
    const type = types.get(column);
    if (type === undefined)
      throw new Error(`the query has no column "${column}"; it has ${[...types.keys()].join(', ')}`);
    return type;
  }

  async function describe(): Promise<ColumnInfo[]> {
    const reader = await db().runAndReadAll(`describe select * from ${relation}`);
    return reader
      .getRowObjectsJS()
      .map((row) => ({ name: String(row.column_name), type: String(row.column_type) }));
  }

  return {
    async connect() {
      instance = await DuckDBInstance.create(options.database);
      connection = await instance.connect();
      await describe(); // fails early, with DuckDB's message, when the query or table is wrong
    },
    describe,
    async maxCursor() {
      if (cursor === undefined) return undefined;
      const reader = await db().runAndReadAll(`select cast(max(${cursor}) as varchar) as m from ${relation}`);
      const value = reader.getRowObjectsJS()[0]?.m;
      return value === null || value === undefined ? undefined : String(value);
    },
    async *pages(window: ReadWindow): AsyncGenerator<Page> {
      const conditions: string[] = [];
      const values: Record<string, string | number> = {};
      const cursorType = options.cursor ? await typeOf(options.cursor) : undefined;
      const keyType = await typeOf(options.primaryKey);
      if (cursor !== undefined && cursorType !== undefined) {
        if (window.after !== undefined) {
          const lookback = window.lookbackSeconds ?? 0;
          const lower = /TIMESTAMP|DATE/i.test(cursorType)
            ? `cast($after as ${cursorType}) - to_seconds(${lookback})`
            : `cast($after as ${cursorType}) - ${lookback}`;
          conditions.push(`${cursor} > ${lower}`);
          values.after = window.after;
        }
        if (window.upTo !== undefined) {
          conditions.push(`${cursor} <= cast($upTo as ${cursorType})`);
          values.upTo = window.upTo;
        }
      }
      if (window.shard !== undefined) {
        conditions.push(
          `hash(${quote(window.shard.column)}) % ${window.shard.count} = ${window.shard.index}`,
        );
      }
      const order = cursor !== undefined ? `${cursor}, ${key}` : key;
      if (window.from !== undefined) {
        values.fromKey = window.from.key;
        if (cursor !== undefined && cursorType !== undefined) {
          values.fromCursor = window.from.cursor;
          // The first conjunct alone can use the table's zone maps to skip what was read before.
          conditions.push(
            `${cursor} >= cast($fromCursor as ${cursorType})`,
            `(${cursor} > cast($fromCursor as ${cursorType}) or ${key} > cast($fromKey as ${keyType}))`,
          );
        } else {
          conditions.push(`${key} > cast($fromKey as ${keyType})`);
        }
      }
      const where = conditions.length > 0 ? `where ${conditions.join(' and ')}` : '';
      // One ordered query per run, streamed in chunks and cut into pages: DuckDB sorts the window
      // once (spilling to disk past its memory limit) instead of once per page.
      const sql =
        `select *, cast(${cursor ?? 'null'} as varchar) as __idmerge_cursor, cast(${key} as varchar) as __idmerge_key ` +
        `from ${relation} ${where} order by ${order}`;
      // Its own connection: a stream is cut short by any other query on the same connection.
      db();
      const reading = await (instance as DuckDBInstance).connect();
      try {
        const result = await reading.stream(sql, values);
        let rows: Row[] = [];
        for await (const chunk of result.yieldRowObjectJs()) {
          for (const row of chunk as Row[]) {
            rows.push(row);
            if (rows.length === window.pageSize) {
              yield toPage(rows);
              rows = [];
            }
          }
        }
        if (rows.length > 0) yield toPage(rows);
      } finally {
        reading.closeSync();
      }
    },
    async close() {
      connection?.closeSync();
      instance?.closeSync();
      connection = undefined;
      instance = undefined;
    },
  };
}

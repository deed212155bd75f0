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
      let from = window.from;
      for (;;) {
        const pageConditions = [...conditions];
        const pageValues = { ...values };
        if (from !== undefined) {
          pageValues.fromKey = from.key;
          if (cursor !== undefined && cursorType !== undefined) {
            pageValues.fromCursor = from.cursor;
            pageConditions.push(
              `(${cursor} > cast($fromCursor as ${cursorType}) or (${cursor} = cast($fromCursor as ${cursorType}) and ${key} > cast($fromKey as ${keyType})))`,
            );
          } else {
            pageConditions.push(`${key} > cast($fromKey as ${keyType})`);
          }
        }
        const where = pageConditions.length > 0 ? `where ${pageConditions.join(' and ')}` : '';
        const sql =
          `select *, cast(${cursor ?? 'null'} as varchar) as __idmerge_cursor, cast(${key} as varchar) as __idmerge_key ` +
          `from ${relation} ${where} order by ${order} limit ${window.pageSize}`;
        const reader = await db().runAndReadAll(sql, pageValues);
        const rows = reader.getRowObjectsJS() as Row[];
        if (rows.length === 0) return;
        const lastRow = rows[rows.length - 1] as Row;
        from = { cursor: String(lastRow.__idmerge_cursor ?? ''), key: String(lastRow.__idmerge_key) };
        for (const row of rows) {
          delete row.__idmerge_cursor;
          delete row.__idmerge_key;
        }
        yield { rows, last: from };
        if (rows.length < window.pageSize) return;
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

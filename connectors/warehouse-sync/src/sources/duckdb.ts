import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DuckDBInstance,
  JSDuckDBValueConverter,
  type DuckDBConnection,
  type DuckDBResult,
} from '@duckdb/node-api';
import type { ColumnInfo, Page, PagePosition, ReadWindow, Row, WarehouseSource } from './source.js';

export interface DuckDbSourceOptions {
  database: string;
  query?: string;
  table?: string;
  cursor?: string;
  primaryKey: string;
  /** DuckDB's memory cap for this source, e.g. '1GB' (default 256MB); larger sorts spill to disk. */
  memoryLimit?: string;
}

const DEFAULT_MEMORY_LIMIT = '256MB';

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * DuckDB's result chunks hold native memory that V8 does not count, so V8 sees no reason to
 * collect them and they pile up by the hundred megabytes between major collections. A full
 * collection every so many chunks (cheap: the heap itself stays small) keeps memory flat.
 */
const CHUNKS_PER_COLLECTION = 32;
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as (options?: { type: 'major' | 'minor' }) => void;
function collectNativeGarbage(): void {
  collect({ type: 'major' });
}

/**
 * The next chunk of a result as plain rows, and each row's (cursor, key) position from the two
 * position columns after the data. Nothing of the native chunk outlives this call: its memory,
 * which V8 does not see, goes back at the next minor GC instead of piling up in old space.
 */
async function readChunk(
  result: DuckDBResult,
  names: readonly string[],
): Promise<{ rows: Row[]; positions: PagePosition[] } | undefined> {
  const chunk = await result.fetchChunk();
  if (chunk === null || chunk.rowCount === 0) return undefined;
  const columns = chunk.convertColumns(JSDuckDBValueConverter);
  const dataColumns = names.length - 2;
  const cursors = columns[dataColumns] as unknown[];
  const keys = columns[dataColumns + 1] as unknown[];
  const rows: Row[] = new Array(chunk.rowCount);
  const positions: PagePosition[] = new Array(chunk.rowCount);
  for (let i = 0; i < chunk.rowCount; i++) {
    const row: Row = {};
    for (let c = 0; c < dataColumns; c++) row[names[c] as string] = (columns[c] as unknown[])[i];
    rows[i] = row;
    const cursor = cursors[i];
    positions[i] = {
      cursor: cursor === null || cursor === undefined ? '' : String(cursor),
      key: String(keys[i]),
    };
  }
  return { rows, positions };
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
      // Sorting a large window spills to disk past this limit, so memory stays flat with row count.
      await connection.run(`set memory_limit = '${options.memoryLimit ?? DEFAULT_MEMORY_LIMIT}'`);
      await connection.run(
        `set temp_directory = '${join(tmpdir(), 'idmerge-duckdb').replaceAll("'", "''")}'`,
      );
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
        const names = result.columnNames();
        let rows: Row[] = [];
        let positions: PagePosition[] = [];
        let chunks = 0;
        for (;;) {
          const chunk = await readChunk(result, names);
          if (chunk === undefined) break;
          if (++chunks % CHUNKS_PER_COLLECTION === 0) collectNativeGarbage();
          rows = rows.length === 0 ? chunk.rows : rows.concat(chunk.rows);
          positions = positions.length === 0 ? chunk.positions : positions.concat(chunk.positions);
          while (rows.length >= window.pageSize) {
            const page = rows.slice(0, window.pageSize);
            const last = positions[window.pageSize - 1] as PagePosition;
            rows = rows.slice(window.pageSize);
            positions = positions.slice(window.pageSize);
            yield { rows: page, last };
          }
        }
        if (rows.length > 0) yield { rows, last: positions[positions.length - 1] as PagePosition };
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

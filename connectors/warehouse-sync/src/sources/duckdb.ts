import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { collectionOnHeapGrowth } from '@idmerge/shared/memory';
import { duckDbColumn, duckDbDialect as dialect } from './duckdb-dialect.js';
import { sliceBounds, slicePages } from './duckdb-pages.js';
import type { ColumnInfo, Page, ReadWindow, WarehouseSource } from './source.js';
import {
  checkWindow,
  maxCursorFrom,
  maxCursorStatement,
  segmentSql,
  segmentsToRead,
  WindowParams,
  type WindowSpec,
} from './window.js';

export interface DuckDbSourceOptions {
  database: string;
  query?: string;
  table?: string;
  cursor?: string;
  primaryKey: string;
  /** DuckDB's memory cap for this source, e.g. '1GB' (default 256MB); larger sorts spill to disk. */
  memoryLimit?: string;
  /** Rows sorted together in one slice of the window (default 50,000). */
  rowsPerSlice?: number;
}

const DEFAULT_MEMORY_LIMIT = '256MB';

/**
 * Rows sorted together in one slice of a window (see sliceBounds). DuckDB's memory for a sorted
 * slice goes well past its memory_limit, so slices stay small; on a table stored roughly in cursor
 * order they cost no speed (zone maps skip the rest). Figures: docs/benchmarks.md.
 */
const ROWS_PER_SLICE = 50_000;

/** A database opened for one operation, closed with everything DuckDB cached while it was open. */
interface OpenDatabase {
  connection: DuckDBConnection;
  close(): void;
}

/** `:memory:` (or DuckDB's other spellings of it): a database of its own, nothing on disk. */
const isInMemory = (database: string) => database === '' || database.startsWith(':memory:');

/**
 * The embedded default warehouse: a DuckDB file, or `:memory:` with CSV/Parquet/JSON files read by
 * the query. Pages are keyset-paged on (cursor, primary key), so ties on the cursor never lose or
 * repeat a row at a page boundary.
 *
 * The database is opened for each operation (describing, the window's maximum, the slice bounds,
 * every slice) and closed after it, read-only when it is a file. While a database is open DuckDB
 * keeps the table blocks it read (up to its memory limit) and the metadata of every part of the table
 * it touched; kept open for a whole run, that would grow with the rows read. Opening it per slice
 * keeps a run's memory flat at the cost of one opening per slice (figures: docs/benchmarks.md).
 */
export function createDuckDbSource(options: DuckDbSourceOptions): WarehouseSource {
  let connected = false;
  const base = options.query ?? `select * from ${options.table ?? ''}`;
  const relation = `(${base}) as source_rows`;
  const types = new Map<string, string>();

  async function open(): Promise<OpenDatabase> {
    if (!connected) throw new Error('the DuckDB source is not connected; call connect() first');
    const settings: Record<string, string> = {
      // Sorting a large window spills to disk past this limit, so memory stays flat with row count.
      memory_limit: options.memoryLimit ?? DEFAULT_MEMORY_LIMIT,
      temp_directory: join(tmpdir(), 'idmerge-duckdb'),
    };
    // Read-only: a sync never writes the warehouse, and a missing file is an error instead of a new,
    // empty database.
    if (!isInMemory(options.database)) settings.access_mode = 'READ_ONLY';
    const instance = await DuckDBInstance.create(options.database, settings);
    try {
      const connection = await instance.connect();
      return {
        connection,
        close() {
          connection.closeSync();
          instance.closeSync();
        },
      };
    } catch (error) {
      instance.closeSync();
      throw error;
    }
  }

  async function query<T>(use: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    const database = await open();
    try {
      return await use(database.connection);
    } finally {
      database.close();
    }
  }

  async function typeOf(column: string): Promise<string> {
    if (types.size === 0) for (const c of await describe()) types.set(c.name, c.type);
    const type = types.get(column);
    if (type === undefined)
      throw new Error(`the query has no column "${column}"; it has ${[...types.keys()].join(', ')}`);
    return type;
  }

  /** The window's columns, from the query's own types. */
  async function spec(window?: ReadWindow): Promise<WindowSpec> {
    const shard = window?.shard?.column;
    return {
      relation,
      key: duckDbColumn(options.primaryKey, await typeOf(options.primaryKey)),
      ...(options.cursor === undefined
        ? {}
        : { cursor: duckDbColumn(options.cursor, await typeOf(options.cursor)) }),
      ...(shard === undefined ? {} : { shardColumn: duckDbColumn(shard, await typeOf(shard)) }),
    };
  }

  async function describe(): Promise<ColumnInfo[]> {
    const reader = await query((connection) =>
      connection.runAndReadAll(`describe select * from ${relation}`),
    );
    return reader
      .getRowObjectsJS()
      .map((row) => ({ name: String(row.column_name), type: String(row.column_type) }));
  }

  return {
    async connect() {
      connected = true;
      try {
        await describe(); // fails early, with DuckDB's message, when the file, query or table is wrong
      } catch (error) {
        connected = false;
        throw error;
      }
    },
    describe,
    async maxCursor() {
      if (options.cursor === undefined) return undefined;
      const window = await spec();
      const statement = maxCursorStatement(dialect, window);
      const reader = await query((connection) => connection.runAndReadAll(statement.text, statement.params));
      return maxCursorFrom(dialect, window, reader.getRowObjectsJS()[0]);
    },
    async *pages(window: ReadWindow): AsyncGenerator<Page> {
      const table = await spec(window);
      checkWindow(table, window);
      // Only the columns the caller uses are fetched and converted (all when it does not say).
      const wanted = window.columns?.([...types.keys()]);
      // DuckDB's result chunks hold native memory V8 does not count, so V8 sees no reason to
      // collect them: they would pile up by the hundred megabytes between its own major GCs.
      const collectGarbage = collectionOnHeapGrowth();
      for (const segment of segmentsToRead(table, window)) {
        const params = new WindowParams(dialect);
        const sql = segmentSql(dialect, table, window, segment, params);
        // The segment is read in slices of the ordering's first column, each one query sorted on
        // its own: sorting a few hundred thousand rows at a time keeps memory flat however large the
        // table, and zone maps let each slice skip the rest of a table stored roughly in order.
        // (Rows without a key have no order to slice on, nor to sort: one query reads them.)
        const leading = sql.leading;
        const bounds = !sql.positioned
          ? []
          : await query((connection) =>
              sliceBounds(
                connection,
                relation,
                leading.sql,
                sql.conditions,
                params.values,
                options.rowsPerSlice ?? ROWS_PER_SLICE,
              ),
            );
        const select = sql.select(wanted);
        for (let slice = 0; slice <= bounds.length; slice++) {
          const sliceParams = params.fork();
          const conditions = [...sql.conditions];
          if (slice > 0)
            conditions.push(
              `${leading.sql} > ${sliceParams.bind(bounds[slice - 1] as string, leading.column)}`,
            );
          if (slice < bounds.length)
            conditions.push(`${leading.sql} <= ${sliceParams.bind(bounds[slice] as string, leading.column)}`);
          const where = conditions.length > 0 ? `where ${conditions.join(' and ')}` : '';
          const database = await open();
          try {
            const order = sql.positioned ? ` order by ${sql.order}` : '';
            const result = await database.connection.stream(
              `select ${select} from ${relation} ${where}${order}`,
              sliceParams.values,
            );
            // A page holds the rows of one chunk (≤ 2048; with the row carried from the chunk
            // before): rows are handed on while still young, so they die in V8's young generation
            // instead of being promoted while a page fills up.
            yield* slicePages(result, {
              pageSize: window.pageSize,
              keyName: options.primaryKey,
              segment,
              afterChunk: collectGarbage,
            });
          } finally {
            database.close();
          }
        }
      }
    },
    async close() {
      connected = false;
    },
  };
}

import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DuckDBInstance,
  JSDuckDBValueConverter,
  type DuckDBConnection,
  type DuckDBResult,
} from '@duckdb/node-api';
import { collectionOnHeapGrowth } from '@idmerge/shared/memory';
import type { ColumnInfo, Page, PagePosition, ReadWindow, Row, WarehouseSource } from './source.js';

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

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * Rows sorted together in one slice of a window (see sliceBounds). DuckDB's memory for a sorted
 * slice goes well past its memory_limit (measured: ~150 MB for 250,000 rows of 16 columns), and
 * smaller slices cost no speed on a table stored roughly in cursor order (zone maps skip the rest).
 */
const ROWS_PER_SLICE = 50_000;

/** Rows sampled to place the slice bounds (windows up to this size get exact bounds). */
const BOUNDS_SAMPLE = 100_000;

/**
 * Ascending, distinct values of `column` (as text) that cut the rows matching `conditions` into
 * slices of about `rowsPerSlice`: slice i is (bound i−1, bound i], the last one has no upper bound.
 * Rows sharing a value always fall in the same slice.
 */
async function sliceBounds(
  connection: DuckDBConnection,
  relation: string,
  column: string,
  conditions: string[],
  values: Record<string, string | number>,
  rowsPerSlice: number,
): Promise<string[]> {
  const where = conditions.length > 0 ? `where ${conditions.join(' and ')}` : '';
  const counted = await connection.runAndReadAll(`select count(*) as n from ${relation} ${where}`, values);
  const count = Number(counted.getRowObjectsJS()[0]?.n ?? 0);
  const slices = Math.ceil(count / rowsPerSlice);
  if (slices <= 1) return [];
  const fractions = Array.from({ length: slices - 1 }, (_, i) => ((i + 1) / slices).toFixed(6));
  // Quantiles of a sample: exact ones hold every value of the window in memory at once (~90 MB at
  // 10M rows, the run's peak). Bounds need not be exact: any ascending values cut the window into
  // slices that cover every row once; a sample of 100,000 keeps them within a few percent of even.
  const reader = await connection.runAndReadAll(
    `select distinct cast(b as varchar) as b, b as v from (` +
      `select unnest(quantile_disc(${column}, [${fractions.join(', ')}])) as b ` +
      `from (select ${column} from ${relation} ${where}) using sample reservoir(${BOUNDS_SAMPLE} rows) repeatable (42)` +
      `) order by v`,
    values,
  );
  return reader.getRowObjectsJS().map((row) => String(row.b));
}

/**
 * The next chunk of a result cut into pages of at most `pageSize` plain rows, each with the
 * (cursor, key) position of its last row from the two position columns after the data (only
 * those rows' positions are converted). Nothing of the native chunk outlives this call: its
 * memory, which V8 does not see, goes back at the next minor GC instead of piling up in old space.
 */
async function readChunk(
  result: DuckDBResult,
  names: readonly string[],
  pageSize: number,
): Promise<Page[] | undefined> {
  const chunk = await result.fetchChunk();
  if (chunk === null || chunk.rowCount === 0) return undefined;
  const dataColumns = names.length - 2;
  const columns: unknown[][] = [];
  for (let c = 0; c < dataColumns; c++) columns.push(chunk.convertColumnValues(c, JSDuckDBValueConverter));
  const cursors = chunk.getColumnVector(dataColumns);
  const keys = chunk.getColumnVector(dataColumns + 1);
  const pages: Page[] = [];
  for (let start = 0; start < chunk.rowCount; start += pageSize) {
    const end = Math.min(start + pageSize, chunk.rowCount);
    const rows: Row[] = new Array(end - start);
    for (let i = start; i < end; i++) {
      const row: Row = {};
      for (let c = 0; c < dataColumns; c++) row[names[c] as string] = (columns[c] as unknown[])[i];
      rows[i - start] = row;
    }
    const cursor = cursors.getItem(end - 1);
    const last: PagePosition = {
      cursor: cursor === null ? '' : String(cursor),
      key: String(keys.getItem(end - 1)),
    };
    pages.push({ rows, last });
  }
  return pages;
}

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
 * it touched; kept open for a whole run, that grows with the rows read (`pnpm bench:warehouse`, peak
 * RSS: 262 MB at 1M rows, 284 at 10M, 302 at 20M). Opened per slice: 236, 248, 252 MB, for ~25 ms
 * per slice, ~10% of the speed (a run of 10M rows opens it ~200 times).
 */
export function createDuckDbSource(options: DuckDbSourceOptions): WarehouseSource {
  let connected = false;
  const base = options.query ?? `select * from ${options.table ?? ''}`;
  const relation = `(${base}) as source_rows`;
  const cursor = options.cursor === undefined ? undefined : quote(options.cursor);
  const key = quote(options.primaryKey);
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
      if (cursor === undefined) return undefined;
      const reader = await query((connection) =>
        connection.runAndReadAll(`select cast(max(${cursor}) as varchar) as m from ${relation}`),
      );
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
      // Only the columns the caller uses are fetched and converted (all when it does not say).
      const wanted = window.columns?.([...types.keys()]);
      const selected = [
        ...(wanted === undefined ? ['*'] : wanted.map(quote)),
        `cast(${cursor ?? 'null'} as varchar) as __idmerge_cursor`,
        `cast(${key} as varchar) as __idmerge_key`,
      ].join(', ');
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
      // The window is read in slices of the ordering's first column, each one query sorted on its
      // own: sorting a few hundred thousand rows at a time keeps memory flat however large the
      // table, and zone maps let each slice skip the rest of a table stored roughly in order.
      const sliceColumn = cursor ?? key;
      const sliceType = cursorType ?? keyType;
      const bounds = await query((connection) =>
        sliceBounds(
          connection,
          relation,
          sliceColumn,
          conditions,
          values,
          options.rowsPerSlice ?? ROWS_PER_SLICE,
        ),
      );
      // DuckDB's result chunks hold native memory V8 does not count, so V8 sees no reason to
      // collect them: they would pile up by the hundred megabytes between its own major GCs.
      const collectGarbage = collectionOnHeapGrowth();
      for (let slice = 0; slice <= bounds.length; slice++) {
        const sliceConditions = [...conditions];
        const sliceValues = { ...values };
        if (slice > 0) {
          sliceConditions.push(`${sliceColumn} > cast($sliceAfter as ${sliceType})`);
          sliceValues.sliceAfter = bounds[slice - 1] as string;
        }
        if (slice < bounds.length) {
          sliceConditions.push(`${sliceColumn} <= cast($sliceUpTo as ${sliceType})`);
          sliceValues.sliceUpTo = bounds[slice] as string;
        }
        const where = sliceConditions.length > 0 ? `where ${sliceConditions.join(' and ')}` : '';
        const database = await open();
        try {
          const result = await database.connection.stream(
            `select ${selected} from ${relation} ${where} order by ${order}`,
            sliceValues,
          );
          const names = result.columnNames();
          for (;;) {
            // Pages never span chunks (≤ 2048 rows each): rows are handed on while still young, so
            // they die in V8's young generation instead of being promoted while a page fills up.
            // Small pages cost nothing since checkpoints no longer wait for delivery.
            const pages = await readChunk(result, names, window.pageSize);
            if (pages === undefined) break;
            collectGarbage();
            yield* pages;
          }
        } finally {
          database.close();
        }
      }
    },
    async close() {
      connected = false;
    },
  };
}

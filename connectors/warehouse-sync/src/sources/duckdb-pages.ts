import {
  JSDuckDBValueConverter,
  type DuckDBConnection,
  type DuckDBDataChunk,
  type DuckDBResult,
} from '@duckdb/node-api';
import type { Page, PagePosition, Row } from './source.js';
import type { Segment } from './window.js';
import { lastCompleteRow } from './window-pages.js';

/** Rows sampled to place the slice bounds (windows up to this size get exact bounds). */
const BOUNDS_SAMPLE = 100_000;

/**
 * Ascending, distinct values of `column` (as text) that cut the rows matching `conditions` into
 * slices of about `rowsPerSlice`: slice i is (bound i−1, bound i], the last one has no upper bound.
 * Rows sharing a value always fall in the same slice.
 */
export async function sliceBounds(
  connection: DuckDBConnection,
  relation: string,
  column: string,
  conditions: string[],
  values: string[],
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
      `select unnest(quantile_disc(x, [${fractions.join(', ')}])) as b ` +
      `from (select ${column} as x from ${relation} ${where}) using sample reservoir(${BOUNDS_SAMPLE} rows) repeatable (42)` +
      `) order by v`,
    values,
  );
  return reader.getRowObjectsJS().map((row) => String(row.b));
}

/**
 * A chunk's last row, handed on with the next chunk's rows: only the next row shows whether its
 * position is complete (a row sharing its (cursor, key) may follow).
 */
interface CarriedRow {
  row: Row;
  /** The key's converted value, the cursor's and the key's texts, to compare the next row with. */
  key: unknown;
  cursor: unknown;
  keyText: unknown;
  position: PagePosition;
  /** It shares the (cursor, key) of the row before it. */
  repeats: boolean;
}

/**
 * Cuts a result's rows into pages of at most `pageSize` plain rows with exact positions: every
 * row of a chunk but the last is handed on with the chunk, the last one with the next chunk (or
 * alone at the end of the result), so each page's positions are known from the rows the page's
 * chunk holds. Nothing of a chunk, converted or native, outlives the chunk's own pages: a page held
 * over while the next chunk is converted and mapped lives through two minor collections and is
 * promoted to old space, row by row, and a promoted chunk's native memory, which V8 does not see,
 * waits for a full collection. One row per chunk is promoted instead of a page.
 */
class ChunkPager {
  private carried: CarriedRow | undefined;
  private readonly dataColumns: number;
  private readonly keyColumn: number;

  constructor(
    private readonly names: readonly string[],
    keyName: string,
    private readonly pageSize: number,
    private readonly nullCursor: boolean,
  ) {
    this.dataColumns = names.length - 2;
    const keyColumn = names.indexOf(keyName);
    this.keyColumn = keyColumn < this.dataColumns ? keyColumn : -1;
  }

  /**
   * The pages a chunk completes: the row carried from the chunk before, then the chunk's rows but
   * its last, which is carried to the next chunk.
   */
  pagesOf(chunk: DuckDBDataChunk): Page[] {
    const { names, dataColumns, pageSize, carried } = this;
    const count = chunk.rowCount;
    const columns: unknown[][] = [];
    for (let c = 0; c < dataColumns; c++) columns.push(chunk.convertColumnValues(c, JSDuckDBValueConverter));
    const cursors = chunk.getColumnVector(dataColumns);
    const keyTexts = chunk.getColumnVector(dataColumns + 1);
    const keys = this.keyColumn >= 0 ? (columns[this.keyColumn] as unknown[]) : undefined;
    // Rows of the chunk are numbered after the carried row: row j is the chunk's row j − offset.
    const offset = carried === undefined ? 0 : 1;
    const total = count + offset;
    // Row j shares row j − 1's (cursor, key): told from the keys' converted values first (one
    // comparison per row, no text made), then from the texts, only for keys that are equal or objects.
    const repeats = (j: number): boolean => {
      const i = j - offset;
      if (i < 0) return (carried as CarriedRow).repeats;
      if (i === 0) {
        if (carried === undefined) return false;
        const own = keys?.[0];
        if (keys !== undefined && own !== carried.key && (typeof own !== 'object' || own === null))
          return false;
        return cursors.getItem(0) === carried.cursor && keyTexts.getItem(0) === carried.keyText;
      }
      if (keys !== undefined) {
        const own = keys[i];
        if (own !== keys[i - 1] && (typeof own !== 'object' || own === null)) return false;
      }
      return cursors.getItem(i) === cursors.getItem(i - 1) && keyTexts.getItem(i) === keyTexts.getItem(i - 1);
    };
    const rowAt = (j: number): Row => {
      const i = j - offset;
      if (i < 0) return (carried as CarriedRow).row;
      const row: Row = {};
      for (let c = 0; c < dataColumns; c++) row[names[c] as string] = (columns[c] as unknown[])[i];
      return row;
    };
    const positionAt = (j: number): PagePosition => {
      const i = j - offset;
      if (i < 0) return (carried as CarriedRow).position;
      const cursor = cursors.getItem(i);
      const at = { cursor: cursor === null ? '' : String(cursor), key: String(keyTexts.getItem(i)) };
      return this.nullCursor ? { ...at, nullCursor: true } : at;
    };
    // Every row but the last goes out now; the row after each page is in this chunk.
    const pages: Page[] = [];
    for (let start = 0; start < total - 1; start += pageSize) {
      const end = Math.min(start + pageSize, total - 1);
      const rows: Row[] = new Array(end - start);
      let duplicateKeys = 0;
      for (let j = start; j < end; j++) {
        rows[j - start] = rowAt(j);
        if (repeats(j)) duplicateKeys++;
      }
      const complete = lastCompleteRow(end - start, (i) => repeats(start + i), repeats(end));
      pages.push(this.page(rows, duplicateKeys, complete < 0 ? undefined : positionAt(start + complete)));
    }
    const last = total - 1;
    const i = last - offset;
    this.carried = {
      row: rowAt(last),
      key: keys?.[i],
      cursor: cursors.getItem(i),
      keyText: keyTexts.getItem(i),
      position: positionAt(last),
      repeats: repeats(last),
    };
    return pages;
  }

  /** The carried row's page, once the result has no more rows: nothing follows its position. */
  end(): Page | undefined {
    const { carried } = this;
    this.carried = undefined;
    return carried === undefined
      ? undefined
      : this.page([carried.row], carried.repeats ? 1 : 0, carried.position);
  }

  private page(rows: Row[], duplicateKeys: number, last: PagePosition | undefined): Page {
    return {
      rows,
      ...(last === undefined ? {} : { last }),
      ...(duplicateKeys > 0 ? { duplicateKeys } : {}),
      ...(this.nullCursor ? { nullCursor: true } : {}),
    };
  }
}

/** The pages the result's next chunk completes, or undefined at its end (the chunk stays in here). */
async function nextPages(result: DuckDBResult, pager: ChunkPager): Promise<Page[] | undefined> {
  const chunk = await result.fetchChunk();
  if (chunk === null || chunk.rowCount === 0) return undefined;
  return pager.pagesOf(chunk);
}

/**
 * Cuts one slice's result into pages of at most `pageSize` plain rows. The result's last two
 * columns are the row's cursor and key as text; only the positions pages need are converted.
 */
export async function* slicePages(
  result: DuckDBResult,
  options: {
    pageSize: number;
    /** The primary key's column. */
    keyName: string;
    /** The window's segment the result holds: `null_key` rows get no positions. */
    segment: Segment;
    /** Called once each chunk is cut into pages, when nothing of the chunk itself is reachable. */
    afterChunk: () => void;
  },
): AsyncGenerator<Page> {
  const { pageSize, afterChunk } = options;
  if (options.segment === 'null_key') {
    yield* unpositionedPages(result, pageSize, afterChunk);
    return;
  }
  const pager = new ChunkPager(result.columnNames(), options.keyName, pageSize, options.segment === 'null');
  for (;;) {
    const pages = await nextPages(result, pager);
    if (pages === undefined) break;
    afterChunk();
    yield* pages;
  }
  const last = pager.end();
  if (last !== undefined) yield last;
}

/** The rows of the result's next chunk, cut into pages without positions, or undefined at its end. */
async function nextUnpositionedPages(
  result: DuckDBResult,
  names: readonly string[],
  pageSize: number,
): Promise<Page[] | undefined> {
  const chunk = await result.fetchChunk();
  if (chunk === null || chunk.rowCount === 0) return undefined;
  const dataColumns = names.length - 2;
  const columns: unknown[][] = [];
  for (let c = 0; c < dataColumns; c++) columns.push(chunk.convertColumnValues(c, JSDuckDBValueConverter));
  const pages: Page[] = [];
  for (let start = 0; start < chunk.rowCount; start += pageSize) {
    const end = Math.min(start + pageSize, chunk.rowCount);
    const rows: Row[] = new Array(end - start);
    for (let i = start; i < end; i++) {
      const row: Row = {};
      for (let c = 0; c < dataColumns; c++) row[names[c] as string] = (columns[c] as unknown[])[i];
      rows[i - start] = row;
    }
    pages.push({ rows });
  }
  return pages;
}

/** Pages of rows without positions (the rows whose key is NULL): no checkpoint stands on them. */
async function* unpositionedPages(
  result: DuckDBResult,
  pageSize: number,
  afterChunk: () => void,
): AsyncGenerator<Page> {
  const names = result.columnNames();
  for (;;) {
    const pages = await nextUnpositionedPages(result, names, pageSize);
    if (pages === undefined) break;
    afterChunk();
    yield* pages;
  }
}

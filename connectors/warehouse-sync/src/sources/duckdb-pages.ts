import { JSDuckDBValueConverter, type DuckDBConnection, type DuckDBResult } from '@duckdb/node-api';
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

/** What is kept of the last row of a chunk, to compare the next chunk's first row with it. */
interface LastRow {
  key: unknown;
  cursor: unknown;
  keyText: unknown;
}

/** A chunk's last page, held until the next chunk shows whether its last position goes on. */
interface HeldPage {
  page: Page;
  ifNextDiffers: PagePosition;
  ifNextRepeats?: PagePosition;
}

/**
 * Cuts one slice's result into pages of at most `pageSize` plain rows. The result's last two
 * columns are the row's cursor and key as text; only the positions pages need are converted.
 * Rows sharing (cursor, key) are told apart from the key's converted value first (one comparison
 * per row), then from the texts. Nothing of a native chunk outlives the chunk's turn: its memory,
 * which V8 does not see, goes back at the next minor GC instead of piling up in old space.
 */
export async function* slicePages(
  result: DuckDBResult,
  options: {
    pageSize: number;
    /** The primary key's column. */
    keyName: string;
    /** The window's segment the result holds: `null_key` rows get no positions. */
    segment: Segment;
    /** Called after each chunk's rows were handed on. */
    afterChunk: () => void;
  },
): AsyncGenerator<Page> {
  const { pageSize, keyName, afterChunk } = options;
  const nullCursor = options.segment === 'null';
  if (options.segment === 'null_key') {
    yield* unpositionedPages(result, pageSize, afterChunk);
    return;
  }
  const names = result.columnNames();
  const dataColumns = names.length - 2;
  const keyColumn = names.indexOf(keyName);
  let previous: LastRow | undefined;
  let held: HeldPage | undefined;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) break;
    const count = chunk.rowCount;
    const columns: unknown[][] = [];
    for (let c = 0; c < dataColumns; c++) columns.push(chunk.convertColumnValues(c, JSDuckDBValueConverter));
    const cursors = chunk.getColumnVector(dataColumns);
    const keyTexts = chunk.getColumnVector(dataColumns + 1);
    const keys = keyColumn >= 0 && keyColumn < dataColumns ? (columns[keyColumn] as unknown[]) : undefined;
    // Row i shares row i − 1's (cursor, key): told from the keys' converted values first (one
    // comparison per row, no text made), then from the texts, only for keys that are equal or objects.
    const repeats = (i: number): boolean => {
      if (i === 0) {
        if (previous === undefined) return false;
        const own = keys?.[0];
        if (keys !== undefined && own !== previous.key && (typeof own !== 'object' || own === null))
          return false;
        return cursors.getItem(0) === previous.cursor && keyTexts.getItem(0) === previous.keyText;
      }
      if (keys !== undefined) {
        const own = keys[i];
        if (own !== keys[i - 1] && (typeof own !== 'object' || own === null)) return false;
      }
      return cursors.getItem(i) === cursors.getItem(i - 1) && keyTexts.getItem(i) === keyTexts.getItem(i - 1);
    };
    const position = (i: number): PagePosition => {
      const cursor = cursors.getItem(i);
      const at = { cursor: cursor === null ? '' : String(cursor), key: String(keyTexts.getItem(i)) };
      return nullCursor ? { ...at, nullCursor: true } : at;
    };
    if (held !== undefined) {
      const first = repeats(0);
      const last = first ? held.ifNextRepeats : held.ifNextDiffers;
      yield last === undefined ? held.page : { ...held.page, last };
      held = undefined;
    }
    for (let start = 0; start < count; start += pageSize) {
      const end = Math.min(start + pageSize, count);
      const rows: Row[] = new Array(end - start);
      let duplicateKeys = 0;
      for (let i = start; i < end; i++) {
        const row: Row = {};
        for (let c = 0; c < dataColumns; c++) row[names[c] as string] = (columns[c] as unknown[])[i];
        rows[i - start] = row;
        if (repeats(i)) duplicateKeys++;
      }
      const page: Page = {
        rows,
        ...(duplicateKeys > 0 ? { duplicateKeys } : {}),
        ...(nullCursor ? { nullCursor: true } : {}),
      };
      const inPage = (i: number) => repeats(start + i);
      if (end < count) {
        const complete = lastCompleteRow(end - start, inPage, repeats(end));
        yield complete < 0 ? page : { ...page, last: position(start + complete) };
      } else {
        const complete = lastCompleteRow(end - start, inPage, undefined);
        held = {
          page,
          ifNextDiffers: position(end - 1),
          ...(complete >= 0 ? { ifNextRepeats: position(start + complete) } : {}),
        };
      }
    }
    previous = {
      key: keys?.[count - 1],
      cursor: cursors.getItem(count - 1),
      keyText: keyTexts.getItem(count - 1),
    };
    afterChunk();
  }
  if (held !== undefined) yield { ...held.page, last: held.ifNextDiffers };
}

/** Pages of rows without positions (the rows whose key is NULL): no checkpoint stands on them. */
async function* unpositionedPages(
  result: DuckDBResult,
  pageSize: number,
  afterChunk: () => void,
): AsyncGenerator<Page> {
  const names = result.columnNames();
  const dataColumns = names.length - 2;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) break;
    const columns: unknown[][] = [];
    for (let c = 0; c < dataColumns; c++) columns.push(chunk.convertColumnValues(c, JSDuckDBValueConverter));
    for (let start = 0; start < chunk.rowCount; start += pageSize) {
      const end = Math.min(start + pageSize, chunk.rowCount);
      const rows: Row[] = new Array(end - start);
      for (let i = start; i < end; i++) {
        const row: Row = {};
        for (let c = 0; c < dataColumns; c++) row[names[c] as string] = (columns[c] as unknown[])[i];
        rows[i - start] = row;
      }
      yield { rows };
    }
    afterChunk();
  }
}

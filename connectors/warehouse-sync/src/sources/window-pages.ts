import type { Page, PagePosition, Row } from './source.js';
import { samePosition } from './window.js';

/**
 * Pages with positions that never split rows sharing a (cursor, key): duplicate primary keys.
 *
 * A page's `last` is where the next read starts strictly after. If it stood on the first of two
 * rows sharing a position, the second would be skipped. So `last` is the position of the page's
 * last row that the next row does not share (earlier rows of the page are then read again after a
 * resume, which `$insert_id` deduplicates), and none when no row of the page qualifies.
 */

/**
 * The index of the last row in [0, end) whose position the row after it does not share, or -1.
 * `repeats(i)` (0 < i < end): row i shares row i − 1's position. `nextRepeats`: the row after the
 * page shares row end − 1's position (undefined: not known yet, taken as yes; false at the end).
 */
export function lastCompleteRow(
  end: number,
  repeats: (i: number) => boolean,
  nextRepeats: boolean | undefined,
): number {
  if (end === 0) return -1;
  if (nextRepeats === false) return end - 1;
  for (let i = end - 1; i > 0; i--) if (!repeats(i)) return i - 1;
  return -1;
}

/** Rows with their positions, as a source reads them (a batch of the driver, a page of the API). */
export interface PositionedRows {
  rows: Row[];
  positions: PagePosition[];
}

function page(
  batch: PositionedRows,
  end: number,
  nextRepeats: boolean | undefined,
  previous?: PagePosition,
): Page {
  const { positions } = batch;
  const repeats = (i: number) => samePosition(positions[i] as PagePosition, positions[i - 1] as PagePosition);
  let duplicateKeys =
    previous !== undefined && end > 0 && samePosition(previous, positions[0] as PagePosition) ? 1 : 0;
  for (let i = 1; i < end; i++) if (repeats(i)) duplicateKeys++;
  const complete = lastCompleteRow(end, repeats, nextRepeats);
  const rows = end === batch.rows.length ? batch.rows : batch.rows.slice(0, end);
  return {
    rows,
    ...(complete >= 0 ? { last: positions[complete] as PagePosition } : {}),
    ...(duplicateKeys > 0 ? { duplicateKeys } : {}),
    ...(positions[0]?.nullCursor === true ? { nullCursor: true } : {}),
  };
}

/**
 * Pages of one segment read as one ordered stream in batches (BigQuery's result pages, a database
 * cursor): each batch becomes a page once the next one shows whether its last row's position goes
 * on, so a position is complete whenever it can be.
 */
export async function* streamedPages(
  batches: AsyncIterable<PositionedRows>,
  options: { positioned: boolean } = { positioned: true },
): AsyncGenerator<Page> {
  if (!options.positioned) {
    // Rows without a key (the `null_key` segment): pages without positions, as they come.
    for await (const batch of batches) if (batch.rows.length > 0) yield { rows: batch.rows };
    return;
  }
  let held: PositionedRows | undefined;
  let previous: PagePosition | undefined;
  for await (const batch of batches) {
    if (batch.rows.length === 0) continue;
    if (held !== undefined) {
      const next = samePosition(held.positions.at(-1) as PagePosition, batch.positions[0] as PagePosition);
      yield page(held, held.rows.length, next, previous);
      previous = held.positions.at(-1);
    }
    held = batch;
  }
  if (held !== undefined) yield page(held, held.rows.length, false, previous);
}

/**
 * Pages of one segment read by repeated queries of at most `limit` rows strictly after a position
 * (keyset paging with LIMIT, never OFFSET). Each query asks for one row more than a page: it shows
 * whether the page's last position goes on. A page that ends inside a run of rows sharing a
 * position stops before that run, so the next query starts with all of it; a run longer than a page
 * is read whole by asking for more rows at once.
 */
export async function* keysetPages(
  fetch: (from: PagePosition | undefined, limit: number) => Promise<PositionedRows>,
  pageSize: number,
  start: PagePosition | undefined,
): AsyncGenerator<Page> {
  let from = start;
  let previous: PagePosition | undefined;
  let limit = pageSize + 1;
  for (;;) {
    const batch = await fetch(from, limit);
    const count = batch.rows.length;
    if (count === 0) return;
    const { positions } = batch;
    const repeats = (i: number) =>
      samePosition(positions[i] as PagePosition, positions[i - 1] as PagePosition);
    // A full batch ends with a look-ahead row, handed on by the next query.
    const ends = count < limit;
    const complete = ends ? count - 1 : lastCompleteRow(count - 1, repeats, repeats(count - 1));
    if (complete < 0) {
      limit *= 2; // one position holds more rows than were asked for: ask for them all at once
      continue;
    }
    const end = complete + 1;
    for (let offset = 0; offset < end; offset += pageSize) {
      const stop = Math.min(end, offset + pageSize);
      yield page(slice(batch, offset, stop), stop - offset, stop < end ? repeats(stop) : false, previous);
      previous = positions[stop - 1];
    }
    if (ends) return;
    from = positions[complete];
    limit = pageSize + 1;
  }
}

function slice(batch: PositionedRows, start: number, end: number): PositionedRows {
  if (start === 0 && end === batch.rows.length) return batch;
  return { rows: batch.rows.slice(start, end), positions: batch.positions.slice(start, end) };
}

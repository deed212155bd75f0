import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import {
  LIMITS,
  lookupTableCell,
  lookupTableColumns,
  lookupTableHeader,
  type LookupTableMapping,
} from '@idmerge/shared';
import type { Page, Row } from '../sources/source.js';

/** Why a row is kept out of the table. */
export type LookupProblemKind = 'null_key' | 'empty_key' | 'duplicate_key' | 'invalid_value';

/** A row kept out of the table, with its key and the reason (for the dead-letter file). */
export interface LookupProblem {
  kind: LookupProblemKind;
  row: Row;
  key: string | null;
  field: string;
  reason: string;
}

/** The CSV built from a result: its size and hash, and what was kept out. */
export interface LookupCsv {
  rowsRead: number;
  /** Data rows in the CSV (the header not counted). */
  rows: number;
  /** The CSV's size in bytes, counted in full even past the limit (then not all written). */
  bytes: number;
  /** SHA-256 of the CSV, hex; the content hash that says whether the table changed. */
  sha256: string;
  overLimit: boolean;
  problems: Record<LookupProblemKind, number>;
  /** The first few rows of the CSV as cells (for the preview). */
  sample: Array<Array<string | null>>;
}

const SAMPLE_ROWS = 3;

/**
 * RFC 4180 as Mixpanel reads it: CRLF between records, fields with a comma, quote or line break in
 * quotes (quotes doubled), NULL as an empty unquoted field (no value) and an empty string as `""`.
 */
function csvStringifier(header: string[]) {
  return stringify({
    header: true,
    columns: header,
    record_delimiter: 'windows',
    cast: { string: (value) => (value === '' ? { value: '', quoted_empty: true } : value) },
  });
}

/**
 * Rows as CSV records, in the order read. Rows arrive in key order (the key is the sync's primary
 * key), so rows sharing a key are side by side: only one key's rows are held at a time. Every row
 * of a key that appears more than once is kept out (no row of them is more right than the others,
 * and Mixpanel would refuse the whole table), as are rows whose key is NULL or empty, or whose value
 * cannot be written; each goes to `onProblem` and the rest is written.
 */
async function* tableRecords(
  mapping: LookupTableMapping,
  pages: AsyncIterable<Page>,
  onProblem: (problem: LookupProblem) => Promise<void>,
  counts: { rowsRead: number; rows: number; problems: Record<LookupProblemKind, number> },
): AsyncGenerator<Array<string | null>> {
  const columns = lookupTableColumns(mapping);
  const keyField = `mapping.key (${mapping.key})`;
  const problem = async (
    kind: LookupProblemKind,
    row: Row,
    key: string | null,
    field: string,
    reason: string,
  ) => {
    counts.problems[kind]++;
    await onProblem({ kind, row, key, field, reason });
  };
  let held: { key: string; rows: Row[] } | undefined;
  const release = async function* (): AsyncGenerator<Array<string | null>> {
    if (held === undefined) return;
    const { key, rows } = held;
    held = undefined;
    if (rows.length > 1) {
      for (const row of rows)
        await problem(
          'duplicate_key',
          row,
          key,
          mapping.key,
          `key ${mapping.key}=${JSON.stringify(key)} is in ${rows.length} rows; a lookup table needs one row per key, ` +
            'so none of them is sent (fix the query, e.g. the join that repeats the key); the other rows are sent',
        );
      return;
    }
    const row = rows[0] as Row;
    const record: Array<string | null> = [key];
    for (const column of columns.slice(1)) {
      try {
        record.push(lookupTableCell(row[column], column));
      } catch (error) {
        await problem('invalid_value', row, key, column, `${column}: ${(error as Error).message}`);
        return;
      }
    }
    counts.rows++;
    yield record;
  };
  let checked = false;
  for await (const page of pages) {
    for (const row of page.rows) {
      counts.rowsRead++;
      if (!checked) {
        const missing = columns.find((column) => !(column in row));
        if (missing !== undefined)
          throw new Error(
            `column "${missing}" (named in the mapping) is not in the query's result; its columns are ${Object.keys(row).join(', ')}`,
          );
        checked = true;
      }
      let key: string | null;
      try {
        key = lookupTableCell(row[mapping.key], mapping.key);
      } catch (error) {
        await problem('invalid_value', row, null, keyField, `${mapping.key}: ${(error as Error).message}`);
        continue;
      }
      if (key === null || key === '') {
        await problem(
          key === null ? 'null_key' : 'empty_key',
          row,
          key,
          mapping.key,
          `key ${mapping.key} is ${key === null ? 'NULL' : 'empty'}: a lookup table row needs an ID; ` +
            'give the row a key in the query or filter it out; the other rows are sent',
        );
        continue;
      }
      if (held !== undefined && held.key === key) {
        held.rows.push(row);
        continue;
      }
      yield* release();
      held = { key, rows: [row] };
    }
  }
  yield* release();
}

/** Passes bytes on up to `limit`, counting and hashing them all (the full size is reported). */
function measure(limit: number) {
  const hash = createHash('sha256');
  const totals = { bytes: 0 };
  const transform = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      totals.bytes += chunk.length;
      done(null, totals.bytes <= limit ? chunk : undefined);
    },
  });
  return { transform, totals, digest: () => hash.digest('hex') };
}

/**
 * Writes the lookup table's CSV for `pages` to `file` (created 0600: it holds the warehouse's data),
 * or only measures it when `file` is undefined (preview). Memory holds a page and one key's rows,
 * whatever the table's size. Past the size limit nothing more is written, but the bytes are still
 * counted, so the error can say how large the table is.
 */
export async function writeLookupCsv(
  mapping: LookupTableMapping,
  pages: AsyncIterable<Page>,
  file: string | undefined,
  onProblem: (problem: LookupProblem) => Promise<void>,
  limitBytes: number = LIMITS.maxLookupTableBytes,
): Promise<LookupCsv> {
  const counts = {
    rowsRead: 0,
    rows: 0,
    problems: { null_key: 0, empty_key: 0, duplicate_key: 0, invalid_value: 0 },
  };
  const sample: Array<Array<string | null>> = [];
  const records = Readable.from(
    (async function* () {
      for await (const record of tableRecords(mapping, pages, onProblem, counts)) {
        if (sample.length < SAMPLE_ROWS) sample.push(record);
        yield record;
      }
    })(),
  );
  const measured = measure(limitBytes);
  const sink =
    file === undefined
      ? new Writable({ write: (_chunk, _encoding, done) => done() })
      : createWriteStream(file, { mode: 0o600 });
  await pipeline(records, csvStringifier(lookupTableHeader(mapping)), measured.transform, sink);
  return {
    ...counts,
    bytes: measured.totals.bytes,
    sha256: measured.digest(),
    overLimit: measured.totals.bytes > limitBytes,
    sample,
  };
}

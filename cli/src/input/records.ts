import { isUtf8 } from 'node:buffer';
import { Readable } from 'node:stream';
import { parse as parseCsv } from 'csv-parse';
import StreamArray from 'stream-json/streamers/StreamArray.js';
import { InputError } from './read-events.js';
import { bomLength, openInput, withoutBom } from './open-input.js';

export const FORMATS = ['ndjson', 'json', 'csv', 'parquet'] as const;
export type RecordFormat = (typeof FORMATS)[number];

/** The format from a file's extension, for files given without --format. */
export function formatOf(path: string): RecordFormat {
  const lower = path.toLowerCase().replace(/\.gz$/, '');
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.parquet')) return 'parquet';
  if (lower.endsWith('.json')) return 'json';
  return 'ndjson';
}

/** How many records a reader hands over at once: one await per batch, not per record. */
const BATCH = 1000;

/** Input that is not a record (a line that is not JSON, a CSV row that does not parse): kept, with where. */
export interface BadInput {
  /** 1-based line number, when the format has lines. */
  line?: number;
  /** The input as read (for bytes that are not UTF-8: decoded with replacement characters). */
  text: string;
  /** The input's bytes in base64, when they are not UTF-8 (the text cannot hold them). */
  bytesBase64?: string;
  reason: string;
}

/**
 * Records read together; for NDJSON also each record's JSON text (`texts[i]` is `records[i]`), and
 * the input around them that is not a record.
 */
export interface RecordBatch {
  records: unknown[];
  texts?: string[];
  bad?: BadInput[];
}

type LineBatch = Required<Pick<RecordBatch, 'records' | 'texts'>> & { bad: BadInput[] };
const lineBatch = (): LineBatch => ({ records: [], texts: [], bad: [] });
const hasAny = (batch: LineBatch) => batch.records.length > 0 || batch.bad.length > 0;

/**
 * NDJSON read in 64 KB chunks (gunzipped when gzip) and parsed a chunk at a time (faster than
 * readline). Small chunks keep few parsed records alive at once, so little is promoted to old space.
 * Chunks are cut at their last newline as bytes, so a line is decoded whole: a line that is not
 * UTF-8 or not JSON is handed over as bad input with its number, and the lines around it go on.
 */
async function* ndjson(path: string): AsyncGenerator<RecordBatch> {
  let number = 0;
  const parse = (line: string, batch: LineBatch) => {
    number++;
    if (line.trim() === '') return;
    try {
      batch.records.push(JSON.parse(line));
      batch.texts.push(line);
    } catch (error) {
      batch.bad.push({
        line: number,
        text: line,
        reason: `line ${number}: not valid JSON (${(error as Error).message})`,
      });
    }
  };
  /** Whole lines, newline-separated, without the last newline. */
  const lines = (bytes: Buffer, batch: LineBatch) => {
    if (isUtf8(bytes)) {
      const text = bytes.toString('utf8');
      let start = 0;
      for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
        parse(text.slice(start, end), batch);
        start = end + 1;
      }
      parse(text.slice(start), batch);
      return;
    }
    // Rare: find the lines that are not UTF-8 and decode the others one by one.
    let start = 0;
    for (;;) {
      const end = bytes.indexOf(0x0a, start);
      const line = bytes.subarray(start, end === -1 ? bytes.length : end);
      if (isUtf8(line)) parse(line.toString('utf8'), batch);
      else {
        number++;
        batch.bad.push({
          line: number,
          text: line.toString('utf8'),
          bytesBase64: line.toString('base64'),
          reason: `line ${number}: not valid UTF-8`,
        });
      }
      if (end === -1) return;
      start = end + 1;
    }
  };
  /** Bytes after the last newline so far (a line still being read). */
  let pending: Buffer[] = [];
  let first = true;
  const take = (bytes: Buffer): LineBatch => {
    if (first) {
      bytes = bytes.subarray(bomLength(bytes));
      first = false;
    }
    const batch = lineBatch();
    lines(bytes, batch);
    return batch;
  };
  try {
    for await (const chunk of (await openInput(path)) as AsyncIterable<Buffer>) {
      const end = chunk.lastIndexOf(0x0a);
      if (end === -1) {
        pending.push(chunk);
        continue;
      }
      const bytes =
        pending.length === 0 ? chunk.subarray(0, end) : Buffer.concat([...pending, chunk.subarray(0, end)]);
      pending = end + 1 < chunk.length ? [chunk.subarray(end + 1)] : [];
      const batch = take(bytes);
      if (hasAny(batch)) yield batch;
    }
  } catch (error) {
    // E.g. a gzip file cut short: what was read before is kept; the failure is bad input.
    const batch = pending.length > 0 ? take(Buffer.concat(pending)) : lineBatch();
    batch.bad.push({
      line: number + 1,
      text: '',
      reason: `line ${number + 1}: cannot read the file past this point (${(error as Error).message})`,
    });
    yield batch;
    return;
  }
  if (pending.length === 0) return;
  const last = take(Buffer.concat(pending));
  if (hasAny(last)) yield last;
}

/**
 * Groups a record stream into batches. A stream that fails hands over what it read, then the
 * failure as bad input (`describe` says what it was): the next file still goes on.
 */
async function* batched(
  source: AsyncIterable<unknown>,
  describe: (error: Error) => string,
  bad: BadInput[] = [],
): AsyncGenerator<RecordBatch> {
  let records: unknown[] = [];
  try {
    for await (const record of source) {
      records.push(record);
      if (records.length >= BATCH || bad.length > 0) {
        yield { records, bad: bad.splice(0) };
        records = [];
      }
    }
  } catch (error) {
    bad.push({ text: '', reason: describe(error as Error) });
  }
  if (records.length > 0 || bad.length > 0) yield { records, bad: bad.splice(0) };
}

async function jsonArray(path: string): Promise<AsyncIterable<unknown>> {
  const stream = Readable.from(withoutBom((await openInput(path)) as AsyncIterable<Buffer>)).pipe(
    StreamArray.withParser(),
  );
  return (async function* () {
    for await (const item of stream) yield (item as { value: unknown }).value;
  })();
}

/** CSV rows; a row that does not parse (e.g. a stray quote) is bad input with its line, and the rest goes on. */
async function csv(path: string, bad: BadInput[]): Promise<AsyncIterable<unknown>> {
  const parser = (await openInput(path)).pipe(
    parseCsv({
      columns: true,
      skip_empty_lines: true,
      cast: true,
      cast_date: false,
      bom: true,
      raw: true,
      skip_records_with_error: true,
      on_skip: (error, raw) => {
        const line = (error as { lines?: number } | undefined)?.lines;
        bad.push({
          ...(line !== undefined ? { line } : {}),
          text: raw ?? '',
          reason: `${line !== undefined ? `line ${line}: ` : ''}not valid CSV (${error?.message ?? 'unreadable row'})`,
        });
      },
    }),
  );
  return (async function* () {
    for await (const row of parser) yield (row as { record: unknown }).record;
  })();
}

async function* parquet(path: string): AsyncGenerator<RecordBatch> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const result = await connection.stream(`select * from read_parquet('${path.replaceAll("'", "''")}')`);
    for await (const rows of result.yieldRowObjectJs()) yield { records: rows };
  } catch (error) {
    throw new InputError(path, '', `cannot read it as Parquet (${(error as Error).message})`);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** The items of an iterable made by `open`, opened on first use. */
async function* lazily<T>(open: () => Promise<AsyncIterable<T>>): AsyncGenerator<T> {
  yield* await open();
}

/** Records of a file in batches, never the whole file in memory; `.gz` (or gzip bytes) read through gunzip. */
export function readRecordBatches(
  path: string,
  format: RecordFormat = formatOf(path),
): AsyncGenerator<RecordBatch> {
  switch (format) {
    case 'ndjson':
      return ndjson(path);
    case 'json':
      return batched(
        lazily(() => jsonArray(path)),
        (error) =>
          `not a valid JSON array (${error.message}); the records before this point were read, the rest of the file was not`,
      );
    case 'csv': {
      const bad: BadInput[] = [];
      return batched(
        lazily(() => csv(path, bad)),
        (error) => `not valid CSV (${error.message})`,
        bad,
      );
    }
    case 'parquet':
      return parquet(path);
  }
}

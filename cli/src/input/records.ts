import { createReadStream } from 'node:fs';
import { parse as parseCsv } from 'csv-parse';
import StreamArray from 'stream-json/streamers/StreamArray.js';
import { InputError } from './read-events.js';

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

/** Records read together; for NDJSON also each record's JSON text (`texts[i]` is `records[i]`). */
export interface RecordBatch {
  records: unknown[];
  texts?: string[];
}

/**
 * NDJSON read in 64 KB chunks and parsed a chunk at a time (faster than readline). Small chunks keep
 * few parsed records alive at once, so little is promoted to old space and peak memory does not
 * grow with the file.
 */
async function* ndjson(path: string): AsyncGenerator<RecordBatch> {
  let rest = '';
  let number = 0;
  const parse = (line: string, batch: Required<RecordBatch>) => {
    number++;
    if (line.trim() === '') return;
    try {
      batch.records.push(JSON.parse(line));
      batch.texts.push(line);
    } catch (error) {
      throw new InputError(path, `, line ${number}`, `not valid JSON (${(error as Error).message})`);
    }
  };
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 64 * 1024 })) {
    const text = rest + (chunk as string);
    const batch: Required<RecordBatch> = { records: [], texts: [] };
    let start = 0;
    for (let end = text.indexOf('\n', start); end !== -1; end = text.indexOf('\n', start)) {
      parse(text.slice(start, end), batch);
      start = end + 1;
    }
    rest = text.slice(start);
    if (batch.records.length > 0) yield batch;
  }
  const last: Required<RecordBatch> = { records: [], texts: [] };
  if (rest !== '') parse(rest, last);
  if (last.records.length > 0) yield last;
}

/** Groups a record stream into batches. */
async function* batched(source: AsyncIterable<unknown>): AsyncGenerator<RecordBatch> {
  let records: unknown[] = [];
  for await (const record of source) {
    records.push(record);
    if (records.length >= BATCH) {
      yield { records };
      records = [];
    }
  }
  if (records.length > 0) yield { records };
}

async function* jsonArray(path: string): AsyncGenerator<unknown> {
  const stream = createReadStream(path).pipe(StreamArray.withParser());
  try {
    for await (const item of stream) yield (item as { value: unknown }).value;
  } catch (error) {
    throw new InputError(path, '', `not a valid JSON array (${(error as Error).message})`);
  }
}

async function* csv(path: string): AsyncGenerator<unknown> {
  const parser = createReadStream(path).pipe(
    parseCsv({ columns: true, skip_empty_lines: true, cast: true, cast_date: false }),
  );
  try {
    for await (const row of parser) yield row;
  } catch (error) {
    throw new InputError(path, '', `not valid CSV (${(error as Error).message})`);
  }
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

/** Records of a file in batches, never the whole file in memory. */
export function readRecordBatches(
  path: string,
  format: RecordFormat = formatOf(path),
): AsyncGenerator<RecordBatch> {
  switch (format) {
    case 'ndjson':
      return ndjson(path);
    case 'json':
      return batched(jsonArray(path));
    case 'csv':
      return batched(csv(path));
    case 'parquet':
      return parquet(path);
  }
}

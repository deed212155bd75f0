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

/** Lines of a file, read in large chunks (faster than readline for big files). */
async function* lines(path: string): AsyncGenerator<string> {
  let rest = '';
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const text = rest + (chunk as string);
    let start = 0;
    for (let end = text.indexOf('\n', start); end !== -1; end = text.indexOf('\n', start)) {
      yield text.slice(start, end);
      start = end + 1;
    }
    rest = text.slice(start);
  }
  if (rest !== '') yield rest;
}

async function* ndjson(path: string): AsyncGenerator<unknown> {
  let number = 0;
  for await (const line of lines(path)) {
    number++;
    if (line.trim() === '') continue;
    try {
      yield JSON.parse(line);
    } catch (error) {
      throw new InputError(path, `, line ${number}`, `not valid JSON (${(error as Error).message})`);
    }
  }
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

async function* parquet(path: string): AsyncGenerator<unknown> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const result = await connection.stream(`select * from read_parquet('${path.replaceAll("'", "''")}')`);
    for await (const rows of result.yieldRowObjectJs()) yield* rows;
  } catch (error) {
    throw new InputError(path, '', `cannot read it as Parquet (${(error as Error).message})`);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Records of a file, one at a time, never the whole file in memory. */
export function readRecords(path: string, format: RecordFormat = formatOf(path)): AsyncGenerator<unknown> {
  switch (format) {
    case 'ndjson':
      return ndjson(path);
    case 'json':
      return jsonArray(path);
    case 'csv':
      return csv(path);
    case 'parquet':
      return parquet(path);
  }
}

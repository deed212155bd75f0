import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { flatRowToEvent } from '@idmerge/shared';
import { formatOf, readRecordBatches } from './records.js';

const NOW = Date.UTC(2026, 0, 1);

async function collect(path: string, format?: Parameters<typeof readRecordBatches>[1]): Promise<unknown[]> {
  const records: unknown[] = [];
  for await (const batch of readRecordBatches(path, format)) records.push(...batch.records);
  return records;
}

describe('readRecords', () => {
  const dir = mkdtempSync(join(tmpdir(), 'records-'));

  it('infers the format from the extension', () => {
    expect(['a.csv', 'a.parquet', 'a.json', 'a.ndjson', 'a.jsonl'].map(formatOf)).toEqual([
      'csv',
      'parquet',
      'json',
      'ndjson',
      'ndjson',
    ]);
  });

  it('streams NDJSON with CRLF and blank lines, and hands over a line of bad JSON with its number', async () => {
    const file = join(dir, 'a.ndjson');
    writeFileSync(file, '{"a":1}\r\n\n{"a":2}\n{"a":');
    const bad = [];
    for await (const batch of readRecordBatches(file)) bad.push(...(batch.bad ?? []));
    expect(bad).toEqual([
      { line: 4, text: '{"a":', reason: expect.stringMatching(/^line 4: not valid JSON/) },
    ]);
    expect(await collect(file)).toEqual([{ a: 1 }, { a: 2 }]);
    writeFileSync(file, '{"a":1}\r\n\n{"a":2}');
    expect(await collect(file)).toEqual([{ a: 1 }, { a: 2 }]);
    const batches = [];
    for await (const batch of readRecordBatches(file)) batches.push(batch);
    const [batch] = batches;
    expect(batch?.texts?.map((t) => JSON.parse(t))).toEqual(batch?.records);
  });

  it('hands records over in batches of at most 1000', async () => {
    const file = join(dir, 'many.json');
    writeFileSync(file, JSON.stringify(Array.from({ length: 2500 }, (_, i) => ({ i }))));
    const sizes: number[] = [];
    for await (const batch of readRecordBatches(file)) sizes.push(batch.records.length);
    expect(sizes).toEqual([1000, 1000, 500]);
  });

  it('streams a JSON array', async () => {
    const file = join(dir, 'a.json');
    writeFileSync(file, JSON.stringify([{ event: 'A' }, { event: 'B' }]));
    expect(await collect(file)).toEqual([{ event: 'A' }, { event: 'B' }]);
  });

  it('reads CSV rows as flat rows that map to events', async () => {
    const file = join(dir, 'a.csv');
    writeFileSync(
      file,
      'event,time,$device_id,$user_id,$insert_id,plan\nSigned Up,2025-11-22T08:00:00Z,D1,U1,r1,pro\n',
    );
    const [row] = await collect(file);
    expect(flatRowToEvent(row, { mode: 'simplified', nowMs: NOW })).toMatchObject({
      ok: true,
      payloads: [
        {
          body: {
            event: 'Signed Up',
            properties: {
              $device_id: 'D1',
              $user_id: 'U1',
              $insert_id: 'r1',
              plan: 'pro',
              time: Date.UTC(2025, 10, 22, 8),
            },
          },
        },
      ],
    });
  });

  it('reads Parquet through DuckDB, with timestamps and big integers', async () => {
    const file = join(dir, 'a.parquet');
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    await connection.run(
      `copy (select 'Purchase' as event, timestamptz '2025-11-22 08:00:00+00' as time, 'U' || i as distinct_id, i::bigint as n from range(3) t(i)) to '${file}' (format parquet)`,
    );
    connection.closeSync();
    instance.closeSync();
    const rows = await collect(file);
    expect(rows).toHaveLength(3);
    const mapped = flatRowToEvent(rows[2], { mode: 'original', nowMs: NOW });
    expect(mapped).toMatchObject({
      ok: true,
      payloads: [
        {
          body: {
            event: 'Purchase',
            properties: { distinct_id: 'U2', n: 2, time: Date.UTC(2025, 10, 22, 8) },
          },
        },
      ],
    });
  });
});

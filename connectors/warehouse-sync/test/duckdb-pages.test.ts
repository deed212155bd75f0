import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slicePages } from '../src/sources/duckdb-pages.js';
import type { Page, PagePosition } from '../src/sources/source.js';

let instance: DuckDBInstance;
let connection: DuckDBConnection;

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:');
  connection = await instance.connect();
  // 5,000 rows in order of i, more than two result chunks (2,048 rows each). From row 101 on, rows
  // come in pairs sharing (cursor, key), 2,449 of them, so runs of duplicates end and start
  // everywhere, chunk ends included.
  await connection.run(`
    create table t as
    select i, id, 1000 + id // 10 as ts
    from (select i, case when i < 100 then i else 100 + (i - 99) // 2 end as id from range(5000) r(i))`);
});

afterAll(() => {
  connection.closeSync();
  instance.closeSync();
});

/** The table read as a slice is: its columns, then the cursor's and the key's texts. */
async function stream() {
  return connection.stream(
    'select i, id, ts, cast(ts as varchar) as cursor_text, cast(id as varchar) as key_text from t order by ts, id, i',
  );
}

const positionOf = (row: Record<string, unknown>): PagePosition => ({
  cursor: String(row.ts),
  key: String(row.id),
});
const same = (a: PagePosition, b: PagePosition) => a.cursor === b.cursor && a.key === b.key;

describe('DuckDB slice pages', () => {
  it('hand on every row of a chunk but its last before the next chunk is fetched (none is held over to it)', async () => {
    const result = await stream();
    const fetch = result.fetchChunk.bind(result);
    const chunkRows: number[] = [];
    const handedOnAtFetch: number[] = [];
    let handedOn = 0;
    result.fetchChunk = async () => {
      handedOnAtFetch.push(handedOn);
      const chunk = await fetch();
      if (chunk !== null && chunk.rowCount > 0) chunkRows.push(chunk.rowCount);
      return chunk;
    };
    for await (const page of slicePages(result, {
      pageSize: 10_000,
      keyName: 'id',
      segment: 'window',
      afterChunk: () => {},
    }))
      handedOn += page.rows.length;
    expect(handedOn).toBe(5000);
    expect(chunkRows.length).toBeGreaterThan(2);
    // Before fetching chunk k, the rows of chunks before it are out, but for the last one.
    let read = 0;
    for (let k = 1; k < handedOnAtFetch.length; k++) {
      read += chunkRows[k - 1] ?? 0;
      expect(handedOnAtFetch[k], `rows handed on when chunk ${k} was fetched`).toBe(read - 1);
    }
  });

  it.each([1, 7, 1000, 2048, 10_000])(
    'pages of at most %i rows: every row once, in order, with exact positions and duplicate counts',
    async (pageSize) => {
      const pages: Page[] = [];
      for await (const page of slicePages(await stream(), {
        pageSize,
        keyName: 'id',
        segment: 'window',
        afterChunk: () => {},
      }))
        pages.push(page);
      const rows = pages.flatMap((page) => page.rows);
      expect(rows.map((row) => Number(row.i))).toEqual(Array.from({ length: 5000 }, (_, i) => i));
      expect(rows.every((row) => Object.keys(row).join() === 'i,id,ts')).toBe(true);
      const positions = rows.map(positionOf);
      let end = 0;
      for (const page of pages) {
        const start = end;
        end += page.rows.length;
        expect(page.rows.length).toBeGreaterThan(0);
        expect(page.rows.length).toBeLessThanOrEqual(pageSize);
        // The position is the last row of the page whose successor does not share it: the page's
        // own last row whenever the row after it starts a new position.
        let complete = end - 1;
        while (
          complete >= start &&
          complete + 1 < positions.length &&
          same(positions[complete] as PagePosition, positions[complete + 1] as PagePosition)
        )
          complete--;
        expect(page.last, `page of rows ${start}–${end - 1}`).toEqual(
          complete >= start ? positions[complete] : undefined,
        );
        let duplicates = 0;
        for (let i = Math.max(start, 1); i < end; i++)
          if (same(positions[i] as PagePosition, positions[i - 1] as PagePosition)) duplicates++;
        expect(page.duplicateKeys ?? 0).toBe(duplicates);
      }
      expect(pages.reduce((sum, page) => sum + (page.duplicateKeys ?? 0), 0)).toBe(2449);
    },
  );
});

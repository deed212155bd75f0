import { describe, expect, it } from 'vitest';
import type { ReadWindow, Row, WarehouseSource } from '../src/sources/source.js';

/**
 * The table every source under test must serve as `events` with cursor `updated_at` and primary key
 * `event_id`: ten rows, with ties on the cursor (rows 3–5 share one time, rows 8–9 another).
 */
export const SUITE_ROWS = [
  { event_id: 1, updated_at: '2025-11-22 08:00:00', user_id: 'U1' },
  { event_id: 2, updated_at: '2025-11-22 08:01:00', user_id: 'U2' },
  { event_id: 3, updated_at: '2025-11-22 08:02:00', user_id: 'U3' },
  { event_id: 4, updated_at: '2025-11-22 08:02:00', user_id: 'U4' },
  { event_id: 5, updated_at: '2025-11-22 08:02:00', user_id: 'U5' },
  { event_id: 6, updated_at: '2025-11-22 08:03:00', user_id: 'U6' },
  { event_id: 7, updated_at: '2025-11-22 08:04:00', user_id: 'U7' },
  { event_id: 8, updated_at: '2025-11-22 08:05:00', user_id: 'U8' },
  { event_id: 9, updated_at: '2025-11-22 08:05:00', user_id: 'U9' },
  { event_id: 10, updated_at: '2025-11-22 08:06:00', user_id: 'U10' },
];

async function ids(source: WarehouseSource, window: ReadWindow): Promise<number[][]> {
  const pages: number[][] = [];
  for await (const page of source.pages(window))
    pages.push(page.rows.map((row: Row) => Number(row.event_id)));
  return pages;
}

/** Runs the shared source cases against `create()`, which returns an unconnected source. */
export function sourceSuite(name: string, create: () => Promise<WarehouseSource>): void {
  describe(`${name} source`, () => {
    async function withSource<T>(run: (source: WarehouseSource) => Promise<T>): Promise<T> {
      const source = await create();
      await source.connect();
      try {
        return await run(source);
      } finally {
        await source.close();
      }
    }

    it('describes its columns and tells the maximum cursor as text', async () => {
      await withSource(async (source) => {
        expect((await source.describe()).map((c) => c.name)).toEqual(['event_id', 'updated_at', 'user_id']);
        expect(await source.maxCursor()).toMatch(/^2025-11-22[ T]08:06:00/);
      });
    });

    it('pages by (cursor, key): ties across a page boundary are neither lost nor repeated', async () => {
      await withSource(async (source) => {
        const pages: Array<{ ids: number[]; lastKey: string | undefined }> = [];
        for await (const page of source.pages({ pageSize: 4 }))
          pages.push({ ids: page.rows.map((row: Row) => Number(row.event_id)), lastKey: page.last?.key });
        // A source may end a page early (at a chunk it was handed), never late.
        expect(pages.flatMap((page) => page.ids)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        for (const page of pages) {
          expect(page.ids.length).toBeGreaterThan(0);
          expect(page.ids.length).toBeLessThanOrEqual(4);
          expect(page.lastKey).toBe(String(page.ids.at(-1)));
        }
      });
    });

    it("reads the closed window [after, upTo]: the lower bound's ties are read again", async () => {
      await withSource(async (source) => {
        const pages = await ids(source, {
          pageSize: 100,
          after: '2025-11-22 08:02:00',
          upTo: '2025-11-22 08:05:00',
        });
        expect(pages.flat()).toEqual([3, 4, 5, 6, 7, 8, 9]);
      });
    });

    it('re-reads the lookback before the last bound', async () => {
      await withSource(async (source) => {
        const pages = await ids(source, { pageSize: 100, after: '2025-11-22 08:03:30', lookbackSeconds: 60 });
        expect(pages.flat()).toEqual([6, 7, 8, 9, 10]);
      });
    });

    it('resumes strictly after a checkpointed position, inside a run of ties', async () => {
      await withSource(async (source) => {
        const first = await source.pages({ pageSize: 4 }).next();
        const position = first.value?.last;
        expect(position).toMatchObject({ key: '4' });
        const rest = await ids(source, { pageSize: 4, from: position });
        expect(rest.flat()).toEqual([5, 6, 7, 8, 9, 10]);
      });
    });

    it('splits rows into disjoint shards that together hold every row', async () => {
      await withSource(async (source) => {
        const shards = await Promise.all(
          [0, 1, 2].map(async (index) =>
            (await ids(source, { pageSize: 100, shard: { index, count: 3, column: 'user_id' } })).flat(),
          ),
        );
        expect(shards.flat().sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        expect(new Set(shards.flat()).size).toBe(10);
      });
    });
  });
}

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDeadLetterList, createSender, type Sender } from '@idmerge/shared';
import { parseSyncDefinition } from '../src/definition.js';
import { runSync } from '../src/run.js';
import type { Page, WarehouseSource } from '../src/sources/source.js';
import { StateStore, type SyncState } from '../src/state.js';

/** A source that hands over `rows` rows in pages of `pageRows`, whatever page size it is asked for. */
function smallPageSource(rows: number, pageRows: number): WarehouseSource {
  return {
    connect: async () => {},
    describe: async () => [],
    maxCursor: async () => String(rows),
    async *pages(): AsyncGenerator<Page> {
      for (let start = 1; start <= rows; start += pageRows) {
        const ids = Array.from({ length: Math.min(pageRows, rows - start + 1) }, (_, i) => start + i);
        yield {
          rows: ids.map((id) => ({
            id: `r${id}`,
            name: 'Opened',
            at: 1763800000 + id,
            device: `d${id}`,
            c: id,
          })),
          last: { cursor: String(ids.at(-1)), key: `r${ids.at(-1)}` },
        };
      }
    },
    close: async () => {},
  };
}

/** A sender that delivers nothing anywhere and settles at once (the run's bookkeeping is under test). */
function instantSender(): Sender {
  const real = createSender(
    { region: 'us', apiHost: 'http://127.0.0.1:9', auth: { kind: 'token', token: 't' }, secrets: [] },
    { deadLetter: createDeadLetterList() },
  );
  return { ...real, send: () => undefined, settled: async () => {}, drain: async () => {} };
}

/** A state store that keeps every checkpoint it is asked to write. */
class RecordingStore extends StateStore {
  readonly saved: Array<string | undefined> = [];
  override save(state: SyncState): void {
    this.saved.push(state.inProgress?.position?.key);
    super.save(state);
  }
}

describe('checkpoints of a run', () => {
  it('are written after every delivered page, whatever size the source hands over', async () => {
    const definition = parseSyncDefinition(
      [
        'name: events',
        'mode: simplified',
        'page_size: 5',
        'source: { type: duckdb, table: t, cursor: c, primary_key: id }',
        'mapping: { type: events, event: name, time: at, device_id: device, insert_id: id }',
      ].join('\n'),
    );
    const store = new RecordingStore(mkdtempSync(join(tmpdir(), 'wh-checkpoints-')));
    const progress: number[] = [];
    const report = await runSync(definition, smallPageSource(13, 2), instantSender(), store, {
      onPage: ({ rowsRead }) => progress.push(rowsRead),
    });
    expect(report.rowsRead).toBe(13);
    // The window is saved first, then the position after every page, then the end.
    expect(store.saved).toEqual([undefined, 'r2', 'r4', 'r6', 'r8', 'r10', 'r12', 'r13', undefined]);
    expect(progress).toEqual([2, 4, 6, 8, 10, 12, 13]);
    expect(store.load()).toMatchObject({ bound: '13', completedRuns: 1 });
  });
});

import type { SyncDefinition } from '../definition.js';
import type { PlainReadWindow } from '../map-page.js';
import type { PackedPage } from './packed-page.js';

/** Marks the data a worker thread is started with when it is to host a sync's source. */
export const SOURCE_WORKER_ROLE = 'idmerge:warehouse-source';

/** What the source worker is started with: the definition names the source and its mapping. */
export interface SourceWorkerData {
  role: typeof SOURCE_WORKER_ROLE;
  definition: SyncDefinition;
  /** Relative DuckDB paths are relative to this folder (the definition file's). */
  definitionDir: string;
}

export function isSourceWorkerData(data: unknown): data is SourceWorkerData {
  return (
    typeof data === 'object' && data !== null && (data as { role?: unknown }).role === SOURCE_WORKER_ROLE
  );
}

/** From the run's thread to the worker. */
export type SourceRequest =
  | { id: number; op: 'connect' | 'maxCursor' | 'close' }
  /** Start reading and mapping pages; at most `ahead` may be posted before the reader asks for more. */
  | { id: number; op: 'pages'; window: PlainReadWindow; ahead: number }
  /** The reader took a page of stream `id`: one more may be posted. */
  | { id: number; op: 'more' }
  /** The reader of stream `id` stopped early: stop reading. */
  | { id: number; op: 'stop' };

/** From the worker to the run's thread. */
export type SourceReply =
  | { id: number; ok: true; value?: string }
  | { id: number; ok: false; error: string }
  | { id: number; page: PackedPage }
  | { id: number; done: true };

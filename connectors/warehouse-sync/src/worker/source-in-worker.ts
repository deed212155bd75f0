import { Worker } from 'node:worker_threads';
import { resumeYoungGenerationGrowth } from '@idmerge/shared/memory';
import type { SyncDefinition } from '../definition.js';
import type { MappedPage, MappingSource, PlainReadWindow } from '../map-page.js';
import { unpackPage, type PackedPage } from './packed-page.js';
import {
  SOURCE_WORKER_ROLE,
  type SourceReply,
  type SourceRequest,
  type SourceWorkerData,
} from './protocol.js';

export interface SourceInWorkerOptions {
  /**
   * The program file the worker thread starts; it must hand a worker whose data passes
   * `isSourceWorkerData` to `serveSource` (the idmerge program does).
   */
  entry: string | URL;
  /** The worker's environment (source credentials); default: this process's. */
  env?: NodeJS.ProcessEnv;
  /** Mapped pages the worker may read ahead of the run (default 4). */
  ahead?: number;
}

const DEFAULT_AHEAD = 4;

/**
 * The definition's source, read in a worker thread that also maps the rows (the per-row work of a
 * sync: converting warehouse values, mapping, validating, serializing). The run's thread only
 * delivers, so reading and delivery use two cores. The worker reads at most `ahead` pages before
 * the run takes them; it is stopped when the source is closed or the run's reader stops early.
 */
export function createSourceInWorker(
  definition: SyncDefinition,
  definitionDir: string,
  options: SourceInWorkerOptions,
): MappingSource {
  let worker: Worker | undefined;
  let broken: Error | undefined;
  let nextId = 1;
  const calls = new Map<number, { resolve: (value?: string) => void; reject: (error: Error) => void }>();
  const readers = new Map<number, (reply: SourceReply) => void>();

  function fail(error: Error): void {
    broken ??= error;
    for (const call of calls.values()) call.reject(error);
    calls.clear();
    for (const reader of readers.values()) reader({ id: 0, ok: false, error: error.message });
  }

  function send(request: SourceRequest): void {
    if (broken !== undefined) throw broken;
    if (worker === undefined) throw new Error('the source worker is not running; call connect() first');
    worker.postMessage(request);
  }

  function call(op: 'connect' | 'maxCursor' | 'close'): Promise<string | undefined> {
    const id = nextId++;
    return new Promise((resolve, reject) => {
      calls.set(id, { resolve, reject });
      try {
        send({ id, op });
      } catch (error) {
        calls.delete(id);
        reject(error as Error);
      }
    });
  }

  function onReply(reply: SourceReply): void {
    const reader = readers.get(reply.id);
    if (reader !== undefined) return reader(reply);
    const pending = calls.get(reply.id);
    if (pending === undefined) return;
    calls.delete(reply.id);
    if ('ok' in reply && reply.ok) pending.resolve(reply.value);
    else if ('ok' in reply) pending.reject(new Error(reply.error));
  }

  return {
    async connect() {
      const data: SourceWorkerData = { role: SOURCE_WORKER_ROLE, definition, definitionDir };
      // The reader allocates fast and keeps pages alive while it maps them: it needs a young
      // generation that grows, even where the program holds young generations small.
      resumeYoungGenerationGrowth();
      const started = new Worker(options.entry, {
        workerData: data,
        env: options.env ?? process.env,
      });
      worker = started;
      broken = undefined;
      started.on('message', onReply);
      started.on('error', (error) => fail(error));
      started.on('exit', (code) => {
        if (worker === started) fail(new Error(`the source's worker thread stopped (exit code ${code})`));
      });
      await call('connect');
    },
    maxCursor: () => call('maxCursor'),
    async *mappedPages(window: PlainReadWindow): AsyncGenerator<MappedPage> {
      const id = nextId++;
      // Kept packed until taken: pages waiting here hold one string each, not a row object per row.
      const pages: PackedPage[] = [];
      let done = false;
      let error: Error | undefined;
      let wake: (() => void) | undefined;
      readers.set(id, (reply) => {
        if ('page' in reply) pages.push(reply.page);
        else if ('done' in reply) done = true;
        else if (!reply.ok) error = new Error(reply.error);
        wake?.();
        wake = undefined;
      });
      try {
        send({ id, op: 'pages', window, ahead: options.ahead ?? DEFAULT_AHEAD });
        for (;;) {
          const page = pages.shift();
          if (page !== undefined) {
            send({ id, op: 'more' });
            yield unpackPage(page);
          } else if (error !== undefined) throw error;
          else if (done) return;
          else await new Promise<void>((resolve) => (wake = resolve));
        }
      } finally {
        readers.delete(id);
        // A reader that stops early tells the worker to stop reading (unless it is gone already).
        if (!done && error === undefined && broken === undefined && worker !== undefined)
          send({ id, op: 'stop' });
      }
    },
    async close() {
      const running = worker;
      if (running === undefined) return;
      try {
        if (broken === undefined) await call('close');
      } finally {
        worker = undefined;
        await running.terminate();
      }
    },
  };
}

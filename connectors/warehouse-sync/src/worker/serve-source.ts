import type { MessagePort } from 'node:worker_threads';
import { pageMapper, windowFor } from '../map-page.js';
import { createSource } from '../sources/create.js';
import { packPage, transferOf, type PackedPage } from './packed-page.js';
import type { SourceReply, SourceRequest, SourceWorkerData } from './protocol.js';

interface Stream {
  credit: number;
  stopped: boolean;
  wake?: () => void;
}

/**
 * Posts a packed page and keeps nothing of it. It is a function of its own so that no variable of
 * the reading loop holds the page: a suspended async function keeps its locals until they are
 * assigned again, so a page held in one would live on while the next chunk is read and mapped,
 * through minor collections, and be promoted to old space with every page after it.
 */
function postPage(port: MessagePort, id: number, page: PackedPage): void {
  port.postMessage({ id, page } satisfies SourceReply, transferOf(page));
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The worker thread's side of a source hosted in a worker: creates the definition's source,
 * answers connect / maxCursor / close, and reads and maps pages, posting each mapped page as soon
 * as the run's thread has room for it (credit-based, so memory stays bounded when delivery is
 * slower than reading). Returns when the source is closed.
 */
export function serveSource(data: SourceWorkerData, port: MessagePort): Promise<void> {
  const source = createSource(data.definition, data.definitionDir);
  const map = pageMapper(data.definition);
  const streams = new Map<number, Stream>();
  /** Streams still reading: closing waits for them (DuckDB aborts the process when its thread is
   * terminated while a query is fetching). */
  const reading = new Set<Promise<void>>();
  const post = (reply: SourceReply) => port.postMessage(reply);

  async function stream(id: number, request: Extract<SourceRequest, { op: 'pages' }>): Promise<void> {
    const state: Stream = { credit: request.ahead, stopped: false };
    streams.set(id, state);
    try {
      for await (const page of source.pages(windowFor(data.definition, request.window))) {
        while (state.credit === 0 && !state.stopped)
          await new Promise<void>((resolve) => (state.wake = resolve));
        if (state.stopped) break;
        state.credit--;
        postPage(port, id, packPage(map(page)));
      }
      if (!state.stopped) post({ id, done: true });
    } catch (error) {
      post({ id, ok: false, error: message(error) });
    } finally {
      streams.delete(id);
    }
  }

  /** Stops every stream and waits until each has ended its read. */
  async function stopReading(): Promise<void> {
    for (const state of streams.values()) {
      state.stopped = true;
      state.wake?.();
      state.wake = undefined;
    }
    await Promise.all([...reading]);
  }

  return new Promise((resolve) => {
    port.on('message', (request: SourceRequest) => {
      switch (request.op) {
        case 'pages': {
          const read = stream(request.id, request);
          reading.add(read);
          void read.finally(() => reading.delete(read));
          return;
        }
        case 'more':
        case 'stop': {
          const state = streams.get(request.id);
          if (state === undefined) return;
          if (request.op === 'more') state.credit++;
          else state.stopped = true;
          state.wake?.();
          state.wake = undefined;
          return;
        }
        case 'connect':
        case 'maxCursor':
        case 'close': {
          const work =
            request.op === 'connect'
              ? source.connect().then(() => undefined)
              : request.op === 'maxCursor'
                ? source.maxCursor()
                : stopReading().then(() => source.close());
          work.then(
            (value) => {
              post(value === undefined ? { id: request.id, ok: true } : { id: request.id, ok: true, value });
              if (request.op === 'close') {
                port.close();
                resolve();
              }
            },
            (error: unknown) => post({ id: request.id, ok: false, error: message(error) }),
          );
        }
      }
    });
  });
}

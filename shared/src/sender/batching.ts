import { gunzip as gunzipCallback, gzip as gzipCallback } from 'node:zlib';
import { promisify } from 'node:util';
import type { Endpoint } from '../payload/index.js';

const gzip = promisify(gzipCallback);
const gunzip = promisify(gunzipCallback);
/** Fast compression: JSON events shrink well at level 1, for a fraction of level 6's CPU. */
const GZIP_LEVEL = 1;
/**
 * Output bytes per compression step: each step is a round trip to libuv's thread pool. A batch of
 * events gzips to less than this, so one step makes its body (zlib's default of 16 KB took several).
 */
const GZIP_CHUNK_BYTES = 64 * 1024;

/**
 * One record on its way: its JSON (serialized once) and, only when it differs from the payload,
 * what came in. Queued batches hold nothing else, so memory stays small while requests wait.
 */
export interface Item {
  json: string;
  original?: unknown;
}

/** Records filling one request; `settle` hands over the promise of its delivery. */
interface Batch {
  items: Item[];
  bytes: number;
  settle: (delivery: Promise<void>) => void;
}

export interface Batcher {
  /**
   * Puts one record of `bytes` bytes of JSON in its endpoint's batch. A batch is handed to
   * `dispatch` before the record when the record would take it over `maxBatchBytes`, and after it
   * when it reaches `batchSize` records. The caller has checked the record fits in a request.
   */
  add(endpoint: Endpoint, json: string, bytes: number, original: unknown): void;
  /** Hands every part-filled batch to `dispatch`. */
  dispatchAll(): void;
  /** Resolves once every batch started before the call is delivered (or dead-lettered). */
  settled(): Promise<void>;
}

/**
 * Fills one batch per endpoint. `dispatch` takes a full batch's records and returns the promise of
 * their delivery, which settles the batch.
 */
export function createBatcher(
  limits: { batchSize: number; maxBatchBytes: number },
  dispatch: (endpoint: Endpoint, items: Item[]) => Promise<void>,
): Batcher {
  const buffers = new Map<Endpoint, Batch>();
  /** Batches not settled yet (filling, queued or in flight), each with the promise of its end. */
  const unsettled = new Set<Promise<void>>();

  function newBatch(): Batch {
    let settle: (outcome: Promise<void>) => void = () => {};
    const done = new Promise<void>((resolve) => (settle = resolve));
    unsettled.add(done);
    void done.then(() => unsettled.delete(done));
    // 2 bytes: the brackets of the JSON array.
    return { items: [], bytes: 2, settle };
  }

  function send(endpoint: Endpoint): void {
    const buffer = buffers.get(endpoint);
    if (buffer === undefined || buffer.items.length === 0) return;
    buffers.delete(endpoint);
    buffer.settle(dispatch(endpoint, buffer.items));
  }

  return {
    add(endpoint, json, bytes, original) {
      let buffer = buffers.get(endpoint);
      if (buffer !== undefined && buffer.bytes + bytes + 1 > limits.maxBatchBytes) {
        send(endpoint);
        buffer = undefined;
      }
      if (buffer === undefined) buffers.set(endpoint, (buffer = newBatch()));
      buffer.items.push(original === undefined ? { json } : { json, original });
      buffer.bytes += bytes + 1;
      if (buffer.items.length >= limits.batchSize) send(endpoint);
    },
    dispatchAll() {
      for (const endpoint of [...buffers.keys()]) send(endpoint);
    },
    async settled() {
      await Promise.all([...unsettled]);
    },
  };
}

/**
 * A batch once it is full: the request body, built (and for /import gzipped) once, when the batch is
 * dispatched, not when its turn comes; retries send the same body. Queued and in-flight batches hold
 * their compressed body, not their records' JSON text.
 */
export interface SealedBatch {
  count: number;
  /** Bytes of the uncompressed JSON array (what rate caps count). */
  rawBytes: number;
  body: Buffer | string;
  headers: Record<string, string>;
  /** The records, for the paths that need them one by one (failures, 413 splits): rebuilt from a gzipped body. */
  items(): Promise<Item[]>;
}

export type Seal = (endpoint: Endpoint, items: Item[]) => Promise<SealedBatch>;

/**
 * Builds request bodies: `/import` as a JSON array (gzipped unless `gzip` is false) with Basic
 * `authorization`, `/track` as a form with `data=`, `/engage` and `/groups` as a JSON array.
 */
export function createSealer(options: { authorization: string; gzip: boolean }): Seal {
  return async function seal(endpoint, items) {
    // No closure here may see `items`: V8 would keep them alive as long as the sealed batch.
    if (endpoint === 'import') {
      // Written straight into one buffer: no joined string (large, in V8's large-object space) for
      // zlib to copy out again.
      const raw = jsonArrayBytes(items);
      const headers = { 'Content-Type': 'application/json', Authorization: options.authorization };
      if (!options.gzip) return keptBatch(items, raw.length, raw, headers);
      const body = await gzip(raw, { level: GZIP_LEVEL, chunkSize: GZIP_CHUNK_BYTES });
      return gzippedBatch(body, items, raw.length, { ...headers, 'Content-Encoding': 'gzip' });
    }
    const json = `[${items.map((item) => item.json).join(',')}]`;
    const rawBytes = Buffer.byteLength(json);
    if (endpoint === 'track') {
      const headers = { 'Content-Type': 'application/x-www-form-urlencoded' };
      return keptBatch(items, rawBytes, `data=${encodeURIComponent(json)}`, headers);
    }
    return keptBatch(items, rawBytes, json, { 'Content-Type': 'application/json' });
  };
}

/** A sealed batch that keeps its records as they are (small bodies: /track, /engage, /groups, plain /import). */
function keptBatch(
  items: Item[],
  rawBytes: number,
  body: Buffer | string,
  headers: Record<string, string>,
): SealedBatch {
  return { count: items.length, rawBytes, body, headers, items: async () => items };
}

/**
 * A sealed batch that keeps its gzipped body and, beside it, only the records' originals (flat rows,
 * sync row keys), and only when there are any: the records are rebuilt from the body when needed.
 */
function gzippedBatch(
  body: Buffer,
  items: readonly Item[],
  rawBytes: number,
  headers: Record<string, string>,
): SealedBatch {
  const originals = items.some((item) => item.original !== undefined)
    ? items.map((item) => item.original)
    : undefined;
  const count = items.length;
  return { count, rawBytes, body, headers, items: () => unsealItems(body, originals) };
}

/** `[json,json,…]` of the items, as UTF-8. */
function jsonArrayBytes(items: readonly Item[]): Buffer {
  let size = 1 + items.length;
  for (const item of items) size += Buffer.byteLength(item.json);
  const bytes = Buffer.allocUnsafe(Math.max(size, 2));
  let at = 0;
  bytes[at++] = 0x5b; // [
  for (let i = 0; i < items.length; i++) {
    if (i > 0) bytes[at++] = 0x2c; // ,
    at += bytes.write((items[i] as Item).json, at, 'utf8');
  }
  bytes[at++] = 0x5d; // ]
  return bytes.subarray(0, at);
}

/** The records of a gzipped /import body, with the originals kept beside it. */
async function unsealItems(body: Buffer, originals: unknown[] | undefined): Promise<Item[]> {
  const events = JSON.parse((await gunzip(body)).toString('utf8')) as unknown[];
  return events.map((event, i) => {
    const json = JSON.stringify(event);
    const original = originals?.[i];
    return original === undefined ? { json } : { json, original };
  });
}

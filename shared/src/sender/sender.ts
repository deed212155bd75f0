import { gunzip as gunzipCallback, gzip as gzipCallback } from 'node:zlib';
import { promisify } from 'node:util';
import PQueue from 'p-queue';
import type { Endpoint, Payload } from '../payload/index.js';
import { LIMITS } from '../validation/index.js';
import { SPEC_BACKOFF, backoffDelay, retryAfterMs, type BackoffPolicy } from './backoff.js';
import { basicAuthUser, redact, type MixpanelConfig } from './config.js';
import type { DeadLetterSink } from './dead-letter-file.js';
import { RateLimiter } from './rate-limit.js';
import {
  emptyReport,
  type DeadLetterEntry,
  type DeadLetterStage,
  type DeliveryReport,
  type Undelivered,
} from './report.js';
import { parseImportFailure, parseStatusReply } from './responses.js';
import { createTransport, TransportError, type HttpResponse, type Transport } from './transport.js';

const gzip = promisify(gzipCallback);
const gunzip = promisify(gunzipCallback);
/** Fast compression: JSON events still shrink about 8x, at a fraction of the CPU of level 6. */
const GZIP_LEVEL = 1;

export interface SenderOptions {
  /** Requests in flight at once (default 10). */
  concurrency?: number;
  /** Records per request, at most 2000 (default 2000). */
  batchSize?: number;
  /** Uncompressed bytes per request, at most 10 MB (default 10 MB). */
  maxBatchBytes?: number;
  /** Per-request timeout (default 60 s). */
  timeoutMs?: number;
  /** Retries of a request after 5xx, timeouts and connection errors (default 5). */
  maxRetries?: number;
  /** Total time one batch may wait on 429s before it is dead-lettered (default 15 min). */
  maxRateLimitWaitMs?: number;
  backoff?: BackoffPolicy;
  /** Gzip `/import` bodies (default true). */
  gzip?: boolean;
  /** `/import?strict=1` (default true). */
  strict?: boolean;
  eventsPerSecond?: number;
  bytesPerMinute?: number;
  deadLetter?: DeadLetterSink;
  /**
   * Records not delivered for a reason that is not theirs (cause `failed`: credentials refused, an
   * outage outlasting the retries, rate-limit waits exhausted, an unexpected answer) are left to the
   * caller, which sends them again: counted in `report.toRetry`, not dead-lettered. For callers that
   * can read their records again (a sync re-reads the rows on its next run). Default false.
   */
  retryFailedLater?: boolean;
  transport?: Transport;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/**
 * One record on its way: its JSON (serialized once) and, only when it differs from the payload,
 * what came in. Queued batches hold nothing else, so memory stays small while requests wait.
 */
interface Item {
  json: string;
  original?: unknown;
}

/** Records filling one request; `settle` hands over the promise of its delivery. */
interface Batch {
  items: Item[];
  bytes: number;
  settle: (delivery: Promise<void>) => void;
}

export interface Sender {
  /**
   * Queues one payload. Returns a promise only when the caller must wait (a full queue, or a
   * dead-letter write); otherwise nothing, so the hot path costs no promise per record. `json`, when
   * given, is the payload body's JSON text already (e.g. the line it was read from). `original` is the input
   * record it came from, kept for the dead-letter file when it differs from the payload.
   */
  send(payload: Payload, original?: unknown, json?: string): Promise<void> | undefined;
  /**
   * `send` for an /import event that is JSON text already, as serialized elsewhere (e.g. a worker
   * thread that maps rows): /import bodies carry no token, so the text goes out as it is.
   */
  sendImportJson(json: string, original?: unknown): Promise<void> | undefined;
  /** Records a record that never became a payload (failed mapping or validation). */
  reject(original: unknown, reason: string, field?: string): Promise<void>;
  /** Sends what is buffered and waits until every request has finished; the sender stays open. */
  drain(): Promise<void>;
  /**
   * Resolves once every record handed in before the call is settled: delivered, dead-lettered or
   * counted unsent. Unlike `drain` it sends nothing early and does not stop the caller from handing
   * in more: a record still in a part-filled batch settles when that batch fills or at the next
   * `drain`. For checkpoints that must not hold up reading (`await` it off the hot path).
   */
  settled(): Promise<void>;
  /** Drains, closes the connections, and returns the final report. */
  flush(): Promise<DeliveryReport>;
  /**
   * Calls `listener` with the `original` (or, without one, the payload body) of every record that
   * was not delivered, or whose delivery Mixpanel left uncertain; returns a function that removes it.
   * Callers that remember what they sent (e.g. profile hashes) use it to forget those records.
   */
  onUndelivered(listener: (original: unknown, why: Undelivered) => void): () => void;
  readonly report: DeliveryReport;
}

/**
 * A batch once it is full: the request body, built (and for /import gzipped) once, when the batch is
 * dispatched, not when its turn comes; retries send the same body. Queued and in-flight batches hold
 * their compressed body, about an eighth of their records' JSON text.
 */
interface SealedBatch {
  count: number;
  /** Bytes of the uncompressed JSON array (what rate caps count). */
  rawBytes: number;
  body: Buffer | string;
  headers: Record<string, string>;
  /** The records, for the paths that need them one by one (failures, 413 splits): rebuilt from a gzipped body. */
  items(): Promise<Item[]>;
}

/** Batches being sealed at once, at most: two compressions run side by side, one more fills meanwhile. */
const MAX_BATCHES_SEALING = 2;

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function withToken(payload: Payload, token: string | undefined): Payload {
  if (token === undefined) return payload;
  if (payload.endpoint === 'track' && payload.body.properties.token === undefined) {
    return { ...payload, body: { ...payload.body, properties: { ...payload.body.properties, token } } };
  }
  if ((payload.endpoint === 'engage' || payload.endpoint === 'groups') && payload.body.$token === undefined) {
    return { ...payload, body: { ...payload.body, $token: token } } as Payload;
  }
  return payload;
}

/** The `$insert_id` of a queued event (parsed back only when a reply names failed records). */
function insertIdOf(item: Item): string | undefined {
  const body = JSON.parse(item.json) as { properties?: { $insert_id?: unknown } };
  const id = body.properties?.$insert_id;
  return typeof id === 'string' ? id : undefined;
}

/**
 * Delivers payloads to Mixpanel: batches per endpoint, gzip, bounded concurrency and optional rate
 * caps, retries per the spec, 413 splitting, strict partial failures, and a dead-letter entry for
 * every record it could not deliver. Nothing is dropped without a dead-letter entry.
 */
export function createSender(config: MixpanelConfig, options: SenderOptions = {}): Sender {
  const concurrency = options.concurrency ?? 10;
  const batchSize = Math.min(options.batchSize ?? LIMITS.maxEventsPerRequest, LIMITS.maxEventsPerRequest);
  const maxBatchBytes = Math.min(options.maxBatchBytes ?? LIMITS.maxRequestBytes, LIMITS.maxRequestBytes);
  const timeoutMs = options.timeoutMs ?? 60_000;
  const maxRetries = options.maxRetries ?? 5;
  const maxRateLimitWaitMs = options.maxRateLimitWaitMs ?? 15 * 60_000;
  const policy = options.backoff ?? SPEC_BACKOFF;
  const useGzip = options.gzip ?? true;
  const strict = options.strict ?? true;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? sleepFor;
  const now = options.now ?? Date.now;
  const transport = options.transport ?? createTransport(concurrency);
  const ownsTransport = options.transport === undefined;
  const limiter = new RateLimiter(options, now, sleep);
  const queue = new PQueue({ concurrency });
  const report = emptyReport();
  const startedAt = now();
  const buffers = new Map<Endpoint, Batch>();
  /** Batches dispatched whose body is still being built (gzip runs on libuv's thread pool). */
  const sealing = new Set<Promise<void>>();
  /** Batches not settled yet (filling, queued or in flight), each with the promise of its end. */
  const unsettled = new Set<Promise<void>>();
  let unexpected: unknown;
  const throwIfBroken = () => {
    if (unexpected !== undefined) throw unexpected;
  };
  let stoppedBecause: string | undefined;
  const authorization = basicAuth(config);
  const undeliveredListeners = new Set<(original: unknown, why: Undelivered) => void>();
  const retryFailedLater = options.retryFailedLater ?? false;

  function notifyUndelivered(
    item: { json?: string; original?: unknown; payload?: Payload },
    why: Undelivered,
  ): void {
    if (undeliveredListeners.size === 0) return;
    const original =
      item.original ?? item.payload?.body ?? (item.json !== undefined ? JSON.parse(item.json) : undefined);
    for (const listener of undeliveredListeners) listener(original, why);
  }

  /**
   * Settles records that were not delivered: dead-lettered, or (cause `failed` with
   * `retryFailedLater`) counted for the caller to send again. The cause follows the stage
   * (`validation` → invalid, `mixpanel` → refused, `exhausted` → failed) unless `failed` says that a
   * Mixpanel answer was about the request, not its records.
   */
  async function deadLetter(
    items: Array<{ json?: string; original?: unknown; payload?: Payload }>,
    stage: DeadLetterStage,
    reason: string,
    field?: string,
    unsent = false,
    failed = stage === 'exhausted',
  ) {
    const cleanReason = redact(reason, config.secrets);
    const why: Undelivered = {
      cause: failed ? 'failed' : stage === 'validation' ? 'invalid' : 'refused',
      reason: cleanReason,
    };
    if (failed && retryFailedLater) {
      report.toRetry += items.length;
      report.toRetryBecause ??= cleanReason;
      for (const item of items) notifyUndelivered(item, why);
      return;
    }
    const key = `${stage}: ${cleanReason.length > 120 ? `${cleanReason.slice(0, 117)}...` : cleanReason}`;
    for (const item of items) {
      report.deadLettered++;
      if (unsent) report.unsent++;
      report.rejectedByReason[key] = (report.rejectedByReason[key] ?? 0) + 1;
      const payload =
        item.payload?.body ?? (item.json !== undefined ? (JSON.parse(item.json) as unknown) : undefined);
      const entry: DeadLetterEntry = { record: item.original ?? payload, stage, reason: cleanReason };
      if (payload !== undefined) entry.payload = payload;
      if (field !== undefined) entry.field = field;
      notifyUndelivered(item, why);
      await options.deadLetter?.write(entry);
    }
  }

  function endpointUrl(endpoint: Endpoint): URL {
    const url = new URL(`${config.apiHost}/${endpoint}`);
    if (endpoint === 'import') {
      if (strict) url.searchParams.set('strict', '1');
      if (config.auth.kind === 'service-account') url.searchParams.set('project_id', config.auth.projectId);
    } else {
      url.searchParams.set('verbose', '1');
    }
    return url;
  }

  /** Builds the request body of `items` for `endpoint`. */
  async function seal(endpoint: Endpoint, items: Item[]): Promise<SealedBatch> {
    // No closure here may see `items`: V8 would keep them alive as long as the sealed batch.
    if (endpoint === 'import') {
      // Written straight into one buffer: no joined string (hundreds of KB in V8's large-object
      // space per batch) for zlib to copy out again.
      const raw = jsonArrayBytes(items);
      const headers = { 'Content-Type': 'application/json', Authorization: authorization };
      if (!useGzip) return keptBatch(items, raw.length, raw, headers);
      const body = await gzip(raw, { level: GZIP_LEVEL });
      return gzippedBatch(body, items, raw.length, { ...headers, 'Content-Encoding': 'gzip' });
    }
    const json = `[${items.map((item) => item.json).join(',')}]`;
    const rawBytes = Buffer.byteLength(json);
    if (endpoint === 'track') {
      const headers = { 'Content-Type': 'application/x-www-form-urlencoded' };
      return keptBatch(items, rawBytes, `data=${encodeURIComponent(json)}`, headers);
    }
    return keptBatch(items, rawBytes, json, { 'Content-Type': 'application/json' });
  }

  async function post(endpoint: Endpoint, batch: SealedBatch): Promise<HttpResponse> {
    await limiter.acquire(batch.count, batch.rawBytes);
    if (batch.headers['Content-Encoding'] === 'gzip') report.bytesGzip += batch.body.length;
    report.requests++;
    report.bytesRaw += batch.rawBytes;
    return transport.post(
      endpointUrl(endpoint),
      { Accept: 'application/json', ...batch.headers },
      batch.body,
      timeoutMs,
    );
  }

  async function deliver(endpoint: Endpoint, batch: SealedBatch): Promise<void> {
    let failures = 0;
    let rateLimitAttempts = 0;
    let rateLimitWaited = 0;
    for (;;) {
      if (stoppedBecause !== undefined) {
        await deadLetter(await batch.items(), 'exhausted', `not sent: ${stoppedBecause}`, undefined, true);
        return;
      }
      let response: HttpResponse;
      try {
        response = await post(endpoint, batch);
      } catch (error) {
        if (!(error instanceof TransportError)) throw error;
        if (++failures > maxRetries) {
          await deadLetter(
            await batch.items(),
            'exhausted',
            `gave up after ${maxRetries} retries: ${error.kind}: ${error.message}`,
          );
          return;
        }
        report.retriedRequests++;
        await sleep(backoffDelay(policy, failures - 1, random));
        continue;
      }
      const { status } = response;
      if (status === 200) {
        await acceptReply(endpoint, batch, response.body);
        return;
      }
      if (status === 400 && endpoint === 'import') {
        await partialFailure(await batch.items(), response.body);
        return;
      }
      if (status === 401 || status === 403) {
        stoppedBecause = `Mixpanel refused the credentials (HTTP ${status}); check the MIXPANEL_* settings and the project's region`;
        await deadLetter(await batch.items(), 'exhausted', `not sent: ${stoppedBecause}`, undefined, true);
        return;
      }
      if (status === 413) {
        const items = await batch.items();
        if (items.length === 1) {
          await deadLetter(items, 'mixpanel', 'Mixpanel refused the record as too large (HTTP 413)');
          return;
        }
        const half = Math.ceil(items.length / 2);
        await deliver(endpoint, await seal(endpoint, items.slice(0, half)));
        await deliver(endpoint, await seal(endpoint, items.slice(half)));
        return;
      }
      if (status === 429) {
        const wait =
          retryAfterMs(response.headers['retry-after'], now()) ??
          backoffDelay(policy, rateLimitAttempts++, random);
        if (rateLimitWaited + wait > maxRateLimitWaitMs) {
          await deadLetter(
            await batch.items(),
            'exhausted',
            `still rate-limited (HTTP 429) after waiting ${Math.round(rateLimitWaited / 1000)} s`,
          );
          return;
        }
        rateLimitWaited += wait;
        report.rateLimitedWaits++;
        await sleep(wait);
        continue;
      }
      if (status >= 500) {
        if (++failures > maxRetries) {
          await deadLetter(
            await batch.items(),
            'exhausted',
            `gave up after ${maxRetries} retries: HTTP ${status} ${response.body.slice(0, 200)}`,
          );
          return;
        }
        report.retriedRequests++;
        await sleep(backoffDelay(policy, failures - 1, random));
        continue;
      }
      // An answer Mixpanel's API does not give about records (404, 405, a proxy's 407…): the request failed.
      await deadLetter(
        await batch.items(),
        'mixpanel',
        `HTTP ${status}: ${response.body.slice(0, 300)}`,
        undefined,
        false,
        true,
      );
      return;
    }
  }

  async function acceptReply(endpoint: Endpoint, batch: SealedBatch, body: string): Promise<void> {
    if (endpoint === 'import') {
      report.delivered += batch.count;
      return;
    }
    const reply = parseStatusReply(body);
    if (reply.ok) report.delivered += batch.count;
    else await deadLetter(await batch.items(), 'mixpanel', reply.error);
  }

  async function partialFailure(items: Item[], body: string): Promise<void> {
    const reply = parseImportFailure(body);
    if (reply === undefined || reply.failed.length === 0) {
      // A strict 400 names its failed records; one that names none was not about them.
      await deadLetter(items, 'mixpanel', `HTTP 400: ${body.slice(0, 300)}`, undefined, false, true);
      return;
    }
    const failedAt = new Map<number, { field?: string; message: string }>();
    const byInsertId = new Map<string, number[]>();
    items.forEach((item, i) => {
      const id = insertIdOf(item);
      if (id !== undefined) byInsertId.set(id, [...(byInsertId.get(id) ?? []), i]);
    });
    const unplaced: Array<{ field?: string; message: string }> = [];
    for (const failed of reply.failed) {
      const index =
        failed.index !== undefined && failed.index < items.length
          ? failed.index
          : failed.insertId !== undefined
            ? byInsertId.get(failed.insertId)?.find((i) => !failedAt.has(i))
            : undefined;
      if (index === undefined) unplaced.push(failed);
      else failedAt.set(index, failed);
    }
    for (const [index, failed] of failedAt) {
      await deadLetter([items[index] as Item], 'mixpanel', failed.message, failed.field);
    }
    // Failures Mixpanel did not tie to a record we sent are counted apart, never as delivered.
    const unattributed = Math.min(unplaced.length, items.length - failedAt.size);
    report.delivered += items.length - failedAt.size - unattributed;
    report.unattributedFailures += unattributed;
    // Which records those were is unknown: every record of the batch not named is uncertain.
    if (unattributed > 0) {
      const why: Undelivered = { cause: 'uncertain', reason: 'Mixpanel refused records it did not name' };
      items.forEach((item, index) => failedAt.has(index) || notifyUndelivered(item, why));
    }
  }

  function newBatch(): Batch {
    let settle: (outcome: Promise<void>) => void = () => {};
    const done = new Promise<void>((resolve) => (settle = resolve));
    unsettled.add(done);
    void done.then(() => unsettled.delete(done));
    return { items: [], bytes: 2, settle };
  }

  function dispatch(endpoint: Endpoint): void {
    const buffer = buffers.get(endpoint);
    if (buffer === undefined || buffer.items.length === 0) return;
    buffers.delete(endpoint);
    // Sealed now, so a batch waiting for its turn holds its compressed body, not its records' text.
    const sealed = seal(endpoint, buffer.items);
    // Its failure is the task's, below; here only that it ended.
    const ended: Promise<void> = sealed.then(
      () => void sealing.delete(ended),
      () => void sealing.delete(ended),
    );
    sealing.add(ended);
    // `deliver` settles every record itself; only a bug reaches this catch. It is not swallowed:
    // the next settled(), drain() or flush() throws it.
    const delivered = queue
      .add(async () => deliver(endpoint, await sealed))
      .catch((error: unknown) => {
        unexpected ??= error;
      });
    buffer.settle(delivered);
  }

  /**
   * Puts one serialized record in its endpoint's batch (dispatching the batch when full), or
   * dead-letters it when it is too large for any request. `original`: what came in, when it is not
   * the payload itself; `payload`: the payload object, when there is one, for a dead-letter entry.
   */
  function enqueue(
    endpoint: Endpoint,
    json: string,
    original: unknown,
    payload?: Payload,
  ): Promise<void> | undefined {
    const bytes = Buffer.byteLength(json);
    if (bytes + 2 > maxBatchBytes || bytes > LIMITS.maxEventBytes) {
      const limit = Math.min(maxBatchBytes, LIMITS.maxEventBytes);
      return deadLetter(
        [payload === undefined ? { original, json } : { original, payload }],
        'validation',
        `the record is ${bytes} bytes as JSON; Mixpanel accepts at most ${limit}`,
      );
    }
    let buffer = buffers.get(endpoint);
    if (buffer !== undefined && buffer.bytes + bytes + 1 > maxBatchBytes) {
      dispatch(endpoint);
      buffer = undefined;
    }
    if (buffer === undefined) buffers.set(endpoint, (buffer = newBatch()));
    buffer.items.push(original === undefined ? { json } : { json, original });
    buffer.bytes += bytes + 1;
    if (buffer.items.length >= batchSize) dispatch(endpoint);
    // The caller waits while batches are still being sealed (each holds its records' text until
    // then: without this bound, a stalled compression thread let ~20 pile up) or queued for a slot.
    if (sealing.size >= MAX_BATCHES_SEALING) return Promise.race(sealing);
    return queue.size >= concurrency ? queue.onSizeLessThan(concurrency) : undefined;
  }

  return {
    report,
    send(rawPayload, original, knownJson) {
      report.recordsIn++;
      const payload = withToken(rawPayload, config.projectToken);
      if (stoppedBecause !== undefined) {
        return deadLetter(
          [{ original, payload }],
          'exhausted',
          `not sent: ${stoppedBecause}`,
          undefined,
          true,
        );
      }
      const json =
        payload === rawPayload && knownJson !== undefined ? knownJson : JSON.stringify(payload.body);
      return enqueue(payload.endpoint, json, original === rawPayload.body ? undefined : original, payload);
    },
    sendImportJson(json, original) {
      report.recordsIn++;
      if (stoppedBecause !== undefined) {
        return deadLetter([{ original, json }], 'exhausted', `not sent: ${stoppedBecause}`, undefined, true);
      }
      return enqueue('import', json, original);
    },
    async reject(original, reason, field) {
      report.recordsIn++;
      await deadLetter([{ original }], 'validation', reason, field);
    },
    async settled() {
      await Promise.all([...unsettled]);
      throwIfBroken();
    },
    async drain() {
      for (const endpoint of [...buffers.keys()]) dispatch(endpoint);
      await queue.onIdle();
      throwIfBroken();
    },
    onUndelivered(listener) {
      undeliveredListeners.add(listener);
      return () => undeliveredListeners.delete(listener);
    },
    async flush() {
      for (const endpoint of [...buffers.keys()]) dispatch(endpoint);
      await queue.onIdle();
      if (ownsTransport && unexpected !== undefined) transport.close();
      throwIfBroken();
      report.elapsedMs = now() - startedAt;
      report.eventsPerSecond = report.elapsedMs > 0 ? (report.delivered * 1000) / report.elapsedMs : 0;
      if (stoppedBecause !== undefined) report.stoppedBecause = stoppedBecause;
      if (ownsTransport) transport.close();
      return report;
    },
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

function basicAuth(config: MixpanelConfig): string {
  return `Basic ${Buffer.from(basicAuthUser(config.auth)).toString('base64')}`;
}

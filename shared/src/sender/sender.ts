import type { Endpoint, Payload } from '../payload/index.js';
import { LIMITS } from '../validation/index.js';
import { SPEC_BACKOFF, type BackoffPolicy } from './backoff.js';
import { createBatcher, createSealer } from './batching.js';
import type { MixpanelConfig } from './config.js';
import type { DeadLetterSink } from './dead-letter-file.js';
import { createDeadLetterAccounting, type UndeliveredRecord } from './dead-letters.js';
import { createDispatcher } from './dispatch.js';
import { RateLimiter } from './rate-limit.js';
import { emptyReport, type DeliveryReport, type Undelivered } from './report.js';
import { basicAuth, endpointUrl } from './request.js';
import { createTransport, type Transport } from './transport.js';

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
  /** Retry timing (default: the spec's, `SPEC_BACKOFF`). */
  backoff?: BackoffPolicy;
  /** Gzip `/import` bodies (default true). */
  gzip?: boolean;
  /** `/import?strict=1` (default true). */
  strict?: boolean;
  /** Cap on records sent per second, shared by every request (default: none). */
  eventsPerSecond?: number;
  /** Cap on uncompressed bytes sent per minute (default: none). */
  bytesPerMinute?: number;
  /** Where undelivered records go (default: nowhere; they are still counted in the report). */
  deadLetter?: DeadLetterSink;
  /**
   * Records not delivered for a reason that is not theirs (cause `failed`: credentials refused, an
   * outage outlasting the retries, rate-limit waits exhausted, an answer about the request) are left
   * to the caller, which sends them again: counted in `report.toRetry`, not dead-lettered. For
   * callers that can read their records again (a sync re-reads the rows on its next run). Default false.
   */
  retryFailedLater?: boolean;
  /** HTTP(S) client (default: keep-alive pools sized to `concurrency`, closed by `flush`). */
  transport?: Transport;
  /** Jitter source (default `Math.random`), clock and timer: for tests. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
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

/**
 * Delivers payloads to Mixpanel: batches per endpoint, gzip, bounded concurrency and optional rate
 * caps, retries per the spec, 413 splitting, strict partial failures, and a dead-letter entry for
 * every record it could not deliver. Nothing is dropped without a dead-letter entry.
 */
export function createSender(config: MixpanelConfig, options: SenderOptions = {}): Sender {
  const concurrency = options.concurrency ?? 10;
  const batchSize = Math.min(options.batchSize ?? LIMITS.maxEventsPerRequest, LIMITS.maxEventsPerRequest);
  const maxBatchBytes = Math.min(options.maxBatchBytes ?? LIMITS.maxRequestBytes, LIMITS.maxRequestBytes);
  const strict = options.strict ?? true;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? sleepFor;
  const transport = options.transport ?? createTransport(concurrency);
  const ownsTransport = options.transport === undefined;
  const report = emptyReport();
  const startedAt = now();
  const accounting = createDeadLetterAccounting(
    report,
    options.deadLetter,
    config.secrets,
    options.retryFailedLater,
  );
  const dispatcher = createDispatcher({
    concurrency,
    timeoutMs: options.timeoutMs ?? 60_000,
    retry: {
      maxRetries: options.maxRetries ?? 5,
      maxRateLimitWaitMs: options.maxRateLimitWaitMs ?? 15 * 60_000,
      backoff: options.backoff ?? SPEC_BACKOFF,
    },
    url: (endpoint) => endpointUrl(config, endpoint, strict),
    seal: createSealer({ authorization: basicAuth(config), gzip: options.gzip ?? true }),
    transport,
    limiter: new RateLimiter(options, now, sleep),
    report,
    accounting,
    sleep,
    now,
    random: options.random ?? Math.random,
  });
  const batcher = createBatcher({ batchSize, maxBatchBytes }, dispatcher.dispatch);
  const largestRecord = Math.min(maxBatchBytes - 2, LIMITS.maxEventBytes);

  const notSent = (record: UndeliveredRecord, stoppedBecause: string) =>
    accounting.deadLetter([record], {
      stage: 'exhausted',
      reason: `not sent: ${stoppedBecause}`,
      unsent: true,
    });

  /**
   * Puts one serialized record in its endpoint's batch, or dead-letters it when it is too large for
   * any request. `original`: what came in, when it is not the payload itself; `payload`: the payload
   * object, when there is one, for a dead-letter entry.
   */
  function enqueue(
    endpoint: Endpoint,
    json: string,
    original: unknown,
    payload?: Payload,
  ): Promise<void> | undefined {
    const bytes = Buffer.byteLength(json);
    if (bytes > largestRecord) {
      return accounting.deadLetter([payload === undefined ? { original, json } : { original, payload }], {
        stage: 'validation',
        reason: `the record is ${bytes} bytes as JSON; Mixpanel accepts at most ${Math.min(maxBatchBytes, LIMITS.maxEventBytes)}`,
      });
    }
    batcher.add(endpoint, json, bytes, original);
    return dispatcher.backpressure();
  }

  async function sendEverything(): Promise<void> {
    batcher.dispatchAll();
    await dispatcher.idle();
  }

  return {
    report,
    send(rawPayload, original, knownJson) {
      report.recordsIn++;
      const payload = withToken(rawPayload, config.projectToken);
      const { stoppedBecause } = dispatcher;
      if (stoppedBecause !== undefined) return notSent({ original, payload }, stoppedBecause);
      const json =
        payload === rawPayload && knownJson !== undefined ? knownJson : JSON.stringify(payload.body);
      return enqueue(payload.endpoint, json, original === rawPayload.body ? undefined : original, payload);
    },
    sendImportJson(json, original) {
      report.recordsIn++;
      const { stoppedBecause } = dispatcher;
      if (stoppedBecause !== undefined) return notSent({ original, json }, stoppedBecause);
      return enqueue('import', json, original);
    },
    async reject(original, reason, field) {
      report.recordsIn++;
      await accounting.deadLetter([{ original }], { stage: 'validation', reason, field });
    },
    async settled() {
      await batcher.settled();
      dispatcher.throwIfBroken();
    },
    async drain() {
      await sendEverything();
      dispatcher.throwIfBroken();
    },
    onUndelivered: (listener) => accounting.onUndelivered(listener),
    async flush() {
      await sendEverything();
      if (ownsTransport) transport.close();
      dispatcher.throwIfBroken();
      report.elapsedMs = now() - startedAt;
      report.eventsPerSecond = report.elapsedMs > 0 ? (report.delivered * 1000) / report.elapsedMs : 0;
      if (dispatcher.stoppedBecause !== undefined) report.stoppedBecause = dispatcher.stoppedBecause;
      return report;
    },
  };
}

import PQueue from 'p-queue';
import type { Endpoint } from '../payload/index.js';
import { readStatusReply, readStrictFailure } from './answers.js';
import type { Item, Seal, SealedBatch } from './batching.js';
import type { DeadLetterAccounting } from './dead-letters.js';
import type { RateLimiter } from './rate-limit.js';
import type { DeliveryReport } from './report.js';
import {
  decideRetry,
  FIRST_ATTEMPT,
  type Attempts,
  type RequestOutcome,
  type RetrySettings,
} from './retry.js';
import { TransportError, type Transport } from './transport.js';

/** Batches being sealed at once, at most: two compressions run side by side, one more fills meanwhile. */
const MAX_BATCHES_SEALING = 2;

export interface DispatchSettings {
  concurrency: number;
  timeoutMs: number;
  retry: RetrySettings;
  /** The URL of an endpoint, query included. */
  url: (endpoint: Endpoint) => URL;
  seal: Seal;
  transport: Transport;
  limiter: RateLimiter;
  report: DeliveryReport;
  accounting: DeadLetterAccounting;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
  random: () => number;
}

export interface Dispatcher {
  /** Seals the records now and queues their delivery; resolves when every one is settled. */
  dispatch(endpoint: Endpoint, items: Item[]): Promise<void>;
  /** A promise to wait on while too many batches are sealing or queued; otherwise undefined. */
  backpressure(): Promise<void> | undefined;
  /** Resolves when nothing is queued or in flight. */
  idle(): Promise<void>;
  /** Why delivery stopped (refused credentials), once it has; later records are not sent. */
  readonly stoppedBecause: string | undefined;
  /** Throws what broke a delivery (a bug: delivery settles every record itself), if anything did. */
  throwIfBroken(): void;
}

/**
 * Sends sealed batches with bounded concurrency and the rate caps, acts on `decideRetry` (waits,
 * retries, splits, stops) and settles every record: delivered, or dead-lettered with the reason.
 */
export function createDispatcher(settings: DispatchSettings): Dispatcher {
  const { report, accounting, seal } = settings;
  const queue = new PQueue({ concurrency: settings.concurrency });
  /** Batches dispatched whose body is still being built (gzip runs on libuv's thread pool). */
  const sealing = new Set<Promise<void>>();
  let stoppedBecause: string | undefined;
  let unexpected: unknown;

  async function post(endpoint: Endpoint, batch: SealedBatch): Promise<RequestOutcome> {
    await settings.limiter.acquire(batch.count, batch.rawBytes);
    if (batch.headers['Content-Encoding'] === 'gzip') report.bytesGzip += batch.body.length;
    report.requests++;
    report.bytesRaw += batch.rawBytes;
    try {
      const headers = { Accept: 'application/json', ...batch.headers };
      return {
        response: await settings.transport.post(
          settings.url(endpoint),
          headers,
          batch.body,
          settings.timeoutMs,
        ),
      };
    } catch (error) {
      if (error instanceof TransportError) return { error };
      throw error;
    }
  }

  async function deliver(endpoint: Endpoint, batch: SealedBatch): Promise<void> {
    let attempts: Attempts = FIRST_ATTEMPT;
    for (;;) {
      if (stoppedBecause !== undefined) {
        await accounting.deadLetter(await batch.items(), {
          stage: 'exhausted',
          reason: `not sent: ${stoppedBecause}`,
          unsent: true,
        });
        return;
      }
      const outcome = await post(endpoint, batch);
      const decision = decideRetry({
        outcome,
        endpoint,
        records: batch.count,
        attempts,
        settings: settings.retry,
        nowMs: settings.now(),
        random: settings.random,
      });
      switch (decision.action) {
        case 'accepted':
          await accept(endpoint, batch, decision.body);
          return;
        case 'partial':
          await partialFailure(await batch.items(), decision.body);
          return;
        case 'retry':
          report.retriedRequests++;
          attempts = decision.attempts;
          await settings.sleep(decision.afterMs);
          continue;
        case 'wait':
          report.rateLimitedWaits++;
          attempts = decision.attempts;
          await settings.sleep(decision.afterMs);
          continue;
        case 'split': {
          const items = await batch.items();
          const half = Math.ceil(items.length / 2);
          await deliver(endpoint, await seal(endpoint, items.slice(0, half)));
          await deliver(endpoint, await seal(endpoint, items.slice(half)));
          return;
        }
        case 'stop':
          stoppedBecause = decision.reason;
          await accounting.deadLetter(await batch.items(), {
            stage: 'exhausted',
            reason: `not sent: ${decision.reason}`,
            unsent: true,
          });
          return;
        case 'dead-letter':
          await accounting.deadLetter(await batch.items(), {
            stage: decision.stage,
            reason: decision.reason,
            ...(decision.failed === true ? { failed: true } : {}),
          });
          return;
      }
    }
  }

  async function accept(endpoint: Endpoint, batch: SealedBatch, body: string): Promise<void> {
    if (endpoint === 'import') {
      report.delivered += batch.count;
      return;
    }
    const reply = readStatusReply(body);
    if (reply.ok) report.delivered += batch.count;
    else await accounting.deadLetter(await batch.items(), { stage: 'mixpanel', reason: reply.error });
  }

  async function partialFailure(items: Item[], body: string): Promise<void> {
    const answer = readStrictFailure(body, items.length, (i) => insertIdOf(items[i] as Item));
    if (answer.kind === 'refused') {
      // A strict 400 names its failed records; one that names none was not about them.
      await accounting.deadLetter(items, { stage: 'mixpanel', reason: answer.reason, failed: true });
      return;
    }
    const { failedAt, unattributed } = answer;
    for (const [index, failed] of failedAt) {
      await accounting.deadLetter([items[index] as Item], {
        stage: 'mixpanel',
        reason: failed.message,
        field: failed.field,
      });
    }
    // Failures Mixpanel did not tie to a record we sent are counted apart, never as delivered.
    report.delivered += items.length - failedAt.size - unattributed;
    report.unattributedFailures += unattributed;
    // Which records those were is unknown: every record of the batch not named is uncertain.
    if (unattributed > 0) {
      items.forEach((item, index) => failedAt.has(index) || accounting.notifyUndelivered(item));
    }
  }

  return {
    get stoppedBecause() {
      return stoppedBecause;
    },
    dispatch(endpoint, items) {
      // Sealed now, so a batch waiting for its turn holds its compressed body, not its records' text.
      const sealed = seal(endpoint, items);
      // Its failure is the task's, below; here only that it ended.
      const ended: Promise<void> = sealed.then(
        () => void sealing.delete(ended),
        () => void sealing.delete(ended),
      );
      sealing.add(ended);
      // `deliver` settles every record itself; only a bug reaches this catch. It is not swallowed:
      // the next settled(), drain() or flush() throws it.
      return queue
        .add(async () => deliver(endpoint, await sealed))
        .catch((error: unknown) => {
          unexpected ??= error;
        });
    },
    backpressure() {
      // The caller waits while batches are still being sealed (each holds its records' text until
      // then, so a stalled compression thread would let them pile up) or queued for a slot.
      if (sealing.size >= MAX_BATCHES_SEALING) return Promise.race(sealing);
      return queue.size >= settings.concurrency ? queue.onSizeLessThan(settings.concurrency) : undefined;
    },
    idle: () => queue.onIdle(),
    throwIfBroken() {
      if (unexpected !== undefined) throw unexpected;
    },
  };
}

/** The `$insert_id` of a queued event (parsed back only when an answer names failed records by it). */
function insertIdOf(item: Item): string | undefined {
  const body = JSON.parse(item.json) as { properties?: { $insert_id?: unknown } };
  const id = body.properties?.$insert_id;
  return typeof id === 'string' ? id : undefined;
}

import type { SegmentMappingOptions } from '@idmerge/shared/mapping';
import type { CheckedCall } from './calls.js';
import type { DeadLetterFile, DeadLetter } from './dead-letter.js';
import type { LogPosition, SegmentLog } from './log/segment-log.js';
import type { Logger } from './logger.js';
import { sendCalls, type SenderFactory, type UnitCalls } from './outcomes.js';
import { prepareChecked, unitCalls, type DeliveryRecord, type Prepared } from './prepared.js';
import type { CollectStats } from './stats.js';

export interface DeliveryOptions {
  log: SegmentLog<Prepared[]>;
  mapping: SegmentMappingOptions;
  newSender: SenderFactory;
  deadLetter: DeadLetterFile;
  stats: CollectStats;
  logger: Logger;
  /** Log bytes read and delivered as one unit (default 2 MB). */
  chunkBytes?: number;
  /** Units delivered at once (default 2); progress is still recorded in log order. */
  parallel?: number;
  /** How long a unit smaller than chunkBytes waits for more calls before it is sent (default 100 ms). */
  lingerMs?: number;
  /** Waits before calls that could not be delivered are sent again: first, doubling up to max. */
  retry?: { firstMs: number; maxMs: number };
}

interface Unit {
  calls: UnitCalls;
  /** Calls in the unit (its records may hold several each). */
  count: number;
  /** Acceptance time of the unit's first call (ms), for the oldest-undelivered age. */
  since: number;
}

/**
 * Delivers what the log holds, in units of about `chunkBytes`, and records progress in log
 * order once every call of a unit is delivered or dead-lettered. Calls Mixpanel did not take
 * for a reason of its own (outage, 429, 5xx, refused credentials) stay in the unit and are sent
 * again after a pause, for as long as it takes: they are never dead-lettered. Only calls that
 * cannot be mapped and records Mixpanel refuses one by one go to the dead-letter file.
 */
export class Delivery {
  private stopped = false;
  private readonly wakers = new Set<() => void>();
  private readonly inFlight = new Set<Unit>();
  private commits: Promise<void> = Promise.resolve();
  private running: Promise<void> | undefined;
  private halt: () => void = () => {};
  /** Resolves (false) on stop: commits stop waiting for units still in flight. */
  private readonly halted = new Promise<boolean>((resolve) => (this.halt = () => resolve(false)));
  /** Why delivery is stopped by Mixpanel refusing the credentials; undefined while it works. */
  authFailure: string | undefined;
  /** The last reason calls could not be delivered, until a unit is delivered again. */
  lastFailure: string | undefined;

  constructor(private readonly options: DeliveryOptions) {}

  /** Maps a call being accepted, so that it goes out as it is if read while still in memory. */
  prepare(item: CheckedCall): Prepared {
    return prepareChecked(item, this.options.mapping);
  }

  start(): void {
    this.running ??= this.loop().catch((error: unknown) => {
      this.options.logger.error('delivery stopped by an unexpected error', {
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
    });
  }

  /** Acceptance time (ms) of the oldest call not yet delivered, when one is being worked on. */
  oldestPending(): number | undefined {
    let oldest: number | undefined;
    for (const unit of this.inFlight) oldest = Math.min(oldest ?? unit.since, unit.since);
    return oldest;
  }

  /** Stops at once: units not finished stay in the log (sent again on the next start). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.halt();
    for (const wake of this.wakers) wake();
    await this.commits;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakers.add(wake);
    });
  }

  private async loop(): Promise<void> {
    const { log, chunkBytes = 2 * 1024 * 1024, parallel = 2, lingerMs = 100 } = this.options;
    let position: LogPosition = log.start;
    const slots: Array<Promise<void>> = [];
    while (!this.stopped) {
      if (slots.length >= parallel) await Promise.race(slots);
      if (!log.hasData(position)) {
        await Promise.race([log.waitForData(position), this.sleep(1000)]);
        continue;
      }
      // Under load, calls arrive a request at a time: a short wait gathers them into units of
      // Mixpanel-sized requests instead of one small request per flush of the log.
      if (log.bytesFrom(position) < chunkBytes) await this.sleep(lingerMs);
      if (this.stopped) break;
      const { records, next } = await log.read(position, chunkBytes);
      if (records.length === 0) {
        // Only a skipped (corrupt) stretch: its place is committed with no calls.
        if (next.segment !== position.segment || next.offset !== position.offset)
          this.commitAfter(Promise.resolve(true), next, 0);
        position = next;
        continue;
      }
      position = next;
      const unit: Unit = { ...unitCalls(records, this.options.mapping), since: acceptedAt(records[0]) };
      this.inFlight.add(unit);
      const done = this.deliverUnit(unit).finally(() => this.inFlight.delete(unit));
      const slot: Promise<void> = done.then(
        () => void slots.splice(slots.indexOf(slot), 1),
        () => void slots.splice(slots.indexOf(slot), 1),
      );
      slots.push(slot);
      this.commitAfter(done, next, unit.count);
    }
  }

  /** Records `next` as delivered once this unit and every unit before it are done. */
  private commitAfter(done: Promise<boolean>, next: LogPosition, count: number): void {
    this.commits = this.commits.then(async () => {
      const complete = await Promise.race([done.catch(() => false), this.halted]);
      if (!complete || this.stopped) {
        // A unit that did not finish: nothing after it may be marked delivered in this run.
        this.stopped = true;
        return;
      }
      // Not awaited: the log writes its progress file at most once a second, with the newest
      // position; the next unit's commit must not wait for that write.
      void this.options.log.commit(next, count);
    });
  }

  /** True once every call of the unit is delivered or dead-lettered; false if stopped first. */
  private async deliverUnit(unit: Unit): Promise<boolean> {
    const { stats, logger, retry = { firstMs: 1000, maxMs: 60_000 } } = this.options;
    const dead: DeadLetter[] = [];
    const { calls } = unit;
    let todo: number[] = Array.from({ length: unit.count }, (_, index) => index);
    for (let attempt = 0; todo.length > 0; attempt++) {
      if (this.stopped) return false;
      let outcome: Awaited<ReturnType<typeof sendCalls>>;
      try {
        outcome = await sendCalls(this.options.newSender, todo, calls);
      } catch (error) {
        // A fault of the sender itself, not of Mixpanel: logged, and the calls are tried again.
        const reason = error instanceof Error ? (error.stack ?? error.message) : String(error);
        logger.error('delivery failed unexpectedly; the calls are kept and sent again', { error: reason });
        outcome = { delivered: 0, refused: [], retry: todo, failure: reason };
      }
      dead.push(...outcome.refused);
      stats.delivered += outcome.delivered;
      if (outcome.retry.length === 0) {
        this.recovered();
        break;
      }
      const wait = Math.min(retry.maxMs, retry.firstMs * 2 ** attempt);
      if (outcome.authFailure !== undefined) {
        if (this.authFailure === undefined)
          logger.error(
            'Mixpanel refused the credentials: delivery is stopped, calls are kept and tried again',
            {
              reason: outcome.authFailure,
              calls: outcome.retry.length,
            },
          );
        this.authFailure = outcome.authFailure;
      } else {
        logger.warn('calls not delivered; kept and sent again', {
          reason: outcome.failure,
          calls: outcome.retry.length,
          retryInMs: wait,
        });
      }
      this.lastFailure = outcome.authFailure ?? outcome.failure;
      todo = outcome.retry;
      await this.sleep(wait);
    }
    if (this.stopped) return false;
    if (dead.length > 0) {
      try {
        await this.options.deadLetter.write(dead);
      } catch {
        return false; // closed while the file could not be written: the calls stay in the log
      }
      stats.deadLettered += dead.length;
      for (const entry of dead) stats.refused(entry.stage, entry.reason);
    }
    return true;
  }

  private recovered(): void {
    if (this.authFailure !== undefined)
      this.options.logger.info('Mixpanel accepts the credentials again: delivery resumed', {});
    this.authFailure = undefined;
    this.lastFailure = undefined;
  }
}

function acceptedAt(record: DeliveryRecord | undefined): number {
  const match = record === undefined ? null : /"receivedAt":"([^"]+)"/.exec(record.text);
  const time = match?.[1] === undefined ? Number.NaN : Date.parse(match[1]);
  return Number.isNaN(time) ? Date.now() : time;
}

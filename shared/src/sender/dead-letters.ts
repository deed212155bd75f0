import type { Payload } from '../payload/index.js';
import { redact } from './config.js';
import type { DeadLetterSink } from './dead-letter-file.js';
import type { DeadLetterEntry, DeadLetterStage, DeliveryReport, Undelivered } from './report.js';

/**
 * A record that did not get through, in whichever form the sender still holds it: its JSON text,
 * the payload object, and what it came from (when that differs from the payload).
 */
export interface UndeliveredRecord {
  json?: string;
  original?: unknown;
  payload?: Payload;
}

/** Why records are dead-lettered. `unsent`: they were never tried because delivery stopped. */
export interface DeadLetterReason {
  stage: DeadLetterStage;
  reason: string;
  field?: string;
  unsent?: boolean;
  /**
   * Not the records' fault: an answer about the request (not its records) or none. Default: the
   * `exhausted` stage is, the others are not.
   */
  failed?: boolean;
}

export interface DeadLetterAccounting {
  /** Counts the records in the report, tells the listeners, and writes one entry each. */
  deadLetter(records: readonly UndeliveredRecord[], why: DeadLetterReason): Promise<void>;
  /** Tells the listeners about a record whose delivery is uncertain (it is not dead-lettered). */
  notifyUndelivered(record: UndeliveredRecord): void;
  onUndelivered(listener: (original: unknown, why: Undelivered) => void): () => void;
}

/** Longest reason kept as a key of `rejectedByReason`; longer ones are cut there (not in entries). */
const REASON_KEY_LENGTH = 120;

/**
 * The sender's account of what it could not deliver: every dead-lettered record is counted by
 * stage and reason, written to the sink with secrets scrubbed from the reason, and passed to the
 * `onUndelivered` listeners as what came in (else the payload body).
 */
export function createDeadLetterAccounting(
  report: DeliveryReport,
  sink: DeadLetterSink | undefined,
  secrets: readonly string[],
  /** Records that failed for a reason not theirs go back to the caller (see SenderOptions). */
  retryFailedLater = false,
): DeadLetterAccounting {
  const listeners = new Set<(original: unknown, why: Undelivered) => void>();
  const uncertain: Undelivered = { cause: 'uncertain', reason: 'Mixpanel refused records it did not name' };

  function tell(record: UndeliveredRecord, why: Undelivered): void {
    if (listeners.size === 0) return;
    const original =
      record.original ??
      record.payload?.body ??
      (record.json !== undefined ? (JSON.parse(record.json) as unknown) : undefined);
    for (const listener of listeners) listener(original, why);
  }

  return {
    notifyUndelivered: (record) => tell(record, uncertain),
    async deadLetter(records, why) {
      const reason = redact(why.reason, secrets);
      const failed = why.failed ?? why.stage === 'exhausted';
      const cause: Undelivered = {
        cause: failed ? 'failed' : why.stage === 'validation' ? 'invalid' : 'refused',
        reason,
      };
      if (failed && retryFailedLater) {
        report.toRetry += records.length;
        report.toRetryBecause ??= reason;
        for (const record of records) tell(record, cause);
        return;
      }
      const key = `${why.stage}: ${reason.length > REASON_KEY_LENGTH ? `${reason.slice(0, REASON_KEY_LENGTH - 3)}...` : reason}`;
      for (const record of records) {
        report.deadLettered++;
        if (why.unsent === true) report.unsent++;
        report.rejectedByReason[key] = (report.rejectedByReason[key] ?? 0) + 1;
        const payload =
          record.payload?.body ??
          (record.json !== undefined ? (JSON.parse(record.json) as unknown) : undefined);
        const entry: DeadLetterEntry = { record: record.original ?? payload, stage: why.stage, reason };
        if (payload !== undefined) entry.payload = payload;
        if (why.field !== undefined) entry.field = why.field;
        tell(record, cause);
        await sink?.write(entry);
      }
    },
    onUndelivered(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

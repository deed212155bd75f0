import { setImmediate } from 'node:timers/promises';
import type { DeadLetterEntry, DeadLetterSink, Sender } from '@idmerge/shared/sender';
import type { DeadLetter } from './dead-letter.js';
import type { MappedCall } from './prepared.js';

/**
 * Delivery hands the event loop back after this many calls of work (mapping, serializing), so
 * the answers to requests waiting meanwhile are not held up by a whole unit (a few ms at most).
 */
export const YIELD_EVERY = 256;

/** A new shared sender whose dead-letter entries go to `sink` (one per attempt: see sendCalls). */
export type SenderFactory = (sink: DeadLetterSink) => Sender;

export interface SendOutcome {
  /** Calls whose every payload Mixpanel took (a call that maps to no payload counts too). */
  delivered: number;
  /**
   * Dead-letter entries: calls that cannot be mapped, and calls Mixpanel refused one by one (or
   * that no request can carry).
   */
  refused: DeadLetter[];
  /** Calls to send again (their indices): Mixpanel did not take them for a reason of its own. */
  retry: number[];
  /** Set when Mixpanel refused the credentials (401/403). */
  authFailure?: string;
  /** Why calls are to be sent again (the first such reason). */
  failure?: string;
}

/** The calls of one delivery unit, by index: mapped when they are sent, as stored otherwise. */
export interface UnitCalls {
  /** The call at `index` mapped to its payloads, or why it cannot be sent. */
  map(index: number): MappedCall | DeadLetter;
  /** The call at `index` as stored, for a dead-letter entry. */
  stored(index: number): unknown;
}

/**
 * Maps and sends the calls at `indices` through a fresh shared sender and sorts each call by the
 * sender's per-record outcome. Each call is mapped just before its payloads are handed over and
 * is not kept: the sender holds the payloads' JSON and the call's index only, so a unit's calls
 * die young instead of living (and being copied by the collector) until the unit is delivered.
 * The sender settles every record: delivered, or a dead-letter entry whose stage says why.
 * `exhausted` means it was not taken for a reason of Mixpanel's own (retries or rate-limit wait
 * ran out, or delivery stopped on refused credentials): such calls are sent again later, never
 * dead-lettered. A record whose failure Mixpanel reported without naming it is sent again as well
 * (its `$insert_id` makes a second copy harmless). A sender stops for good on a 401/403, so each
 * attempt gets its own; they share one connection pool.
 */
export async function sendCalls(
  newSender: SenderFactory,
  indices: readonly number[],
  calls: UnitCalls,
): Promise<SendOutcome> {
  const retry = new Set<number>();
  const refused = new Map<number, DeadLetter[]>();
  const unsettled = new Set<number>();
  let failure: string | undefined;
  const sink: DeadLetterSink = {
    async write(entry: DeadLetterEntry) {
      // Each payload's original is its call's index (see the sends below).
      const index = entry.record;
      if (typeof index !== 'number') return;
      if (entry.stage === 'exhausted') {
        retry.add(index);
        failure ??= entry.reason;
        return;
      }
      const list = refused.get(index) ?? [];
      list.push({
        record: calls.stored(index),
        stage: entry.stage,
        reason: entry.reason,
        ...(entry.payload !== undefined ? { payload: entry.payload } : {}),
        ...(entry.field !== undefined ? { field: entry.field } : {}),
      });
      refused.set(index, list);
    },
    async close() {},
  };
  const sender = newSender(sink);
  sender.onUndelivered((original) => {
    if (typeof original === 'number') unsettled.add(original);
  });
  const outcome: SendOutcome = { delivered: 0, refused: [], retry: [] };
  const sent: number[] = [];
  for (let i = 0; i < indices.length; i++) {
    // Mapping and serializing take a while: requests waiting for their answers go between.
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await setImmediate();
    const index = indices[i] as number;
    const mapped = calls.map(index);
    if (!('payloads' in mapped)) {
      outcome.refused.push(mapped);
      continue;
    }
    sent.push(index);
    for (const ready of mapped.payloads) {
      const wait =
        ready.endpoint === 'import'
          ? sender.sendImportJson(ready.json, index)
          : sender.send(ready.payload, index, ready.json);
      if (wait !== undefined) await wait;
    }
  }
  const report = await sender.flush();
  // Undelivered records the sender did not dead-letter: Mixpanel counted them failed unnamed.
  for (const index of unsettled) {
    if (retry.has(index) || refused.has(index)) continue;
    retry.add(index);
    failure ??= 'Mixpanel reported failed records without naming them';
  }
  for (const index of sent) {
    if (retry.has(index)) outcome.retry.push(index);
    else if (refused.has(index)) outcome.refused.push(...(refused.get(index) ?? []));
    else outcome.delivered++;
  }
  if (report.stoppedBecause !== undefined) outcome.authFailure = report.stoppedBecause;
  if (failure !== undefined) outcome.failure = failure;
  return outcome;
}

import { mapSegmentCall, type SegmentMappingOptions } from '@idmerge/shared/mapping';
import type { Endpoint, Payload } from '@idmerge/shared/payload';
import type { CheckedCall } from './calls.js';
import type { DeadLetter } from './dead-letter.js';
import type { LogRecord } from './log/segment-log.js';
import type { UnitCalls } from './outcomes.js';
import { isRequestRecord, readRequestRecord, weighRecord } from './request-record.js';

/**
 * One payload ready to send: its body as JSON text, serialized once when the call is mapped; the
 * payload object beside it for the endpoints whose sending may still add the project token.
 */
export type ReadyPayload =
  | { endpoint: 'import'; json: string }
  | { endpoint: Exclude<Endpoint, 'import'>; json: string; payload: Payload };

/** A call ready to send: its Mixpanel payloads. */
export interface MappedCall {
  payloads: ReadyPayload[];
}

/** A call as delivery takes it: mapped, or why it cannot be sent. */
export type Prepared = MappedCall | DeadLetter;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Maps one call (as it is stored), or says why it cannot be sent. Whatever the mapping layer does
 * with a value (it may throw on one it did not foresee), the failure stays with this call.
 */
export function mapCall(call: Record<string, unknown>, mapping: SegmentMappingOptions): Prepared {
  try {
    const mapped = mapSegmentCall(call, mapping);
    if (mapped.ok) return { payloads: mapped.payloads.map(ready) };
    const first = mapped.errors[0];
    return {
      record: call,
      stage: 'validation',
      reason: mapped.errors.map((issue) => `${issue.field}: ${issue.message}`).join('; '),
      ...(first !== undefined ? { field: first.field } : {}),
    };
  } catch (error) {
    const { name, message } = error instanceof Error ? error : new Error(String(error));
    return {
      record: call,
      stage: 'validation',
      reason: `the call could not be mapped (${name}: ${message})`,
    };
  }
}

function ready(payload: Payload): ReadyPayload {
  const json = JSON.stringify(payload.body);
  return payload.endpoint === 'import'
    ? { endpoint: 'import', json }
    : { endpoint: payload.endpoint, json, payload };
}

/** Maps one stored log record, or says why it cannot be sent (see mapCall). */
export function mapStored(text: string, mapping: SegmentMappingOptions): Prepared {
  let stored: unknown;
  try {
    stored = JSON.parse(text);
  } catch {
    return {
      record: text,
      stage: 'validation',
      reason: 'a log record is not JSON (the log was changed on disk)',
    };
  }
  if (!isRecord(stored))
    return { record: stored, stage: 'validation', reason: 'a log record is not an object' };
  if (typeof stored.refused === 'string')
    return {
      record: stored.call,
      stage: 'validation',
      reason: stored.refused,
      ...(typeof stored.field === 'string' ? { field: stored.field } : {}),
    };
  const call = stored.call;
  if (!isRecord(call)) return { record: call, stage: 'validation', reason: 'a log record holds no call' };
  return mapCall(call, mapping);
}

/** The call a log record holds, as stored (for a dead-letter entry). */
export function storedCall(text: string): unknown {
  try {
    const stored = JSON.parse(text) as unknown;
    return isRecord(stored) && 'call' in stored ? stored.call : stored;
  } catch {
    return text;
  }
}

/** A call of a request as it was checked, ready for delivery. */
export function prepareChecked(item: CheckedCall, mapping: SegmentMappingOptions): Prepared {
  return 'call' in item ? mapCall(item.call, mapping) : mapStored(item.refusal, mapping);
}

/** A log record as delivery reads it: the prepared calls it held when still in memory. */
export type DeliveryRecord = LogRecord<Prepared[]>;

/**
 * The calls of a unit's records, by index in the unit (a whole-request record holds several). A
 * call read from disk is mapped when it is asked for and not kept, so that a unit's mapped calls
 * do not stay in memory while it is delivered; the checked calls of the last whole request read
 * are kept, as calls are asked for in order.
 */
export function unitCalls(
  records: readonly DeliveryRecord[],
  mapping: SegmentMappingOptions,
): { count: number; calls: UnitCalls } {
  const recordOf: number[] = [];
  const itemOf: number[] = [];
  records.forEach((record, r) => {
    const count = record.memo?.length ?? weighRecord(record.text);
    for (let item = 0; item < count; item++) {
      recordOf.push(r);
      itemOf.push(item);
    }
  });
  let last: { text: string; checked: ReturnType<typeof readRequestRecord> } | undefined;
  const checkedOf = (text: string) => {
    if (last?.text !== text) last = { text, checked: readRequestRecord(text) };
    return last.checked;
  };
  const unreadable = (text: string, reason: string): DeadLetter => ({
    record: text.slice(0, 1000),
    stage: 'validation',
    reason,
  });
  return {
    count: recordOf.length,
    calls: {
      map(index) {
        const record = records[recordOf[index] as number] as DeliveryRecord;
        const item = itemOf[index] as number;
        const memo = record.memo?.[item];
        if (memo !== undefined) return memo;
        if (!isRequestRecord(record.text)) return mapStored(record.text, mapping);
        const checked = checkedOf(record.text);
        if ('unreadable' in checked) return unreadable(record.text, checked.unreadable);
        const call = checked.items[item];
        return call === undefined
          ? unreadable(record.text, 'a log record holds fewer calls than its header says')
          : prepareChecked(call, mapping);
      },
      stored(index) {
        const record = records[recordOf[index] as number] as DeliveryRecord;
        if (!isRequestRecord(record.text)) return storedCall(record.text);
        const checked = readRequestRecord(record.text);
        const call = 'unreadable' in checked ? undefined : checked.items[itemOf[index] as number];
        if (call === undefined) return record.text.slice(0, 1000);
        return 'call' in call ? call.call : storedCall(call.refusal);
      },
    },
  };
}

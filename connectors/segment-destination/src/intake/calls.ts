import { randomUUID } from 'node:crypto';
import { CALL_LIMIT_BYTES } from './body.js';
import { inspectCall, truncateDepth } from './inspect.js';
import type { CallKind } from './routes.js';

const CALL_TYPES = new Set(['track', 'identify', 'page', 'screen', 'alias', 'group']);

/** What the log holds for each call of a request: the call to deliver, or why it was refused. */
export type StoredRecord =
  { call: Record<string, unknown> } | { refused: string; field?: string; call: unknown };

export interface RequestCalls {
  /** One log record (JSON text of a StoredRecord) per call, in request order. */
  records: string[];
  /** Beside each record, the call it stores as an object, or undefined for a refused call. */
  calls: Array<Record<string, unknown> | undefined>;
  accepted: number;
  refused: Array<{ index: number; messageId?: string; reason: string }>;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The call without the write key: dead-letter files and the log never hold one. */
function withoutWriteKey(item: Record<string, unknown>): Record<string, unknown> {
  if (!('writeKey' in item)) return item;
  const { writeKey: _dropped, ...rest } = item;
  return rest;
}

function invalidTime(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== 'string' && typeof value !== 'number') return true;
  return Number.isNaN(new Date(value).getTime());
}

function refusal(item: unknown, reason: string, field?: string): string {
  const kept = isRecord(item) ? truncateDepth(withoutWriteKey(item)) : truncateDepth(item);
  return JSON.stringify({ refused: reason, ...(field !== undefined ? { field } : {}), call: kept });
}

/** One call of a request once checked: the call as it is kept, or the log record of its refusal. */
export type CheckedCall = { call: Record<string, unknown> } | { refusal: string };

export interface CheckedRequest {
  /** Per call, in request order. */
  items: CheckedCall[];
  refused: Array<{ index: number; messageId?: string; reason: string }>;
  /** The message IDs given now to calls that came without one, by their index in the request. */
  givenIds: Array<[number, string]>;
  /** The body or one of its calls held a write key (taken out of the calls kept). */
  heldWriteKey: boolean;
}

/**
 * Checks each call of one request alone: one that cannot be kept as it is (wrong type, too deep,
 * not valid Unicode, an impossible time) becomes a refusal with its reason, and the others are
 * accepted. A call without `messageId` gets one now (from `givenIds` when the request is read again
 * from the log, else a random one), so every redelivery sends the same `$insert_id`. `body` is the
 * request's parsed JSON and is taken over: its call objects are completed in place (no copy).
 */
export function checkCalls(
  kind: CallKind,
  body: Record<string, unknown>,
  options: { receivedAt: string; invalidUtf8: boolean; givenIds?: ReadonlyMap<number, string> },
): CheckedRequest {
  const items: unknown[] = kind === 'batch' ? (body.batch as unknown[]) : [{ ...body, type: kind }];
  const context = isRecord(body.context) && kind === 'batch' ? body.context : undefined;
  const out: CheckedRequest = { items: [], refused: [], givenIds: [], heldWriteKey: 'writeKey' in body };
  items.forEach((item, index) => {
    const refuse = (reason: string, field?: string) => {
      const messageId = isRecord(item) && typeof item.messageId === 'string' ? item.messageId : undefined;
      out.refused.push({ index, ...(messageId !== undefined ? { messageId } : {}), reason });
      out.items.push({ refusal: refusal(item, reason, field) });
    };
    if (!isRecord(item)) return refuse('a call must be a JSON object');
    if ('writeKey' in item) out.heldWriteKey = true;
    if (typeof item.type !== 'string' || !CALL_TYPES.has(item.type))
      return refuse('type must be one of track, identify, page, screen, alias, group', 'type');
    const problem = inspectCall(item, options.invalidUtf8);
    if (problem !== undefined) return refuse(problem.reason, problem.field);
    for (const field of ['timestamp', 'originalTimestamp', 'sentAt'])
      if (invalidTime(item[field]))
        return refuse(`${field} is not a valid time: ${String(item[field]).slice(0, 40)}`, field);
    // The parsed call itself becomes the stored one (no copy: the request's objects are ours).
    const call = item;
    if ('writeKey' in call) delete call.writeKey;
    if (typeof call.messageId !== 'string' || call.messageId === '') {
      const id = options.givenIds?.get(index) ?? randomUUID();
      call.messageId = id;
      out.givenIds.push([index, id]);
    }
    call.receivedAt = options.receivedAt;
    if (context !== undefined && !isRecord(call.context)) call.context = context;
    out.items.push({ call });
  });
  return out;
}

/**
 * The calls of one request as log records, one per call (JSON text of a StoredRecord): the checks
 * of checkCalls, and a call over 32 KB as it is kept is refused too.
 */
export function callsOfRequest(
  kind: CallKind,
  body: Record<string, unknown>,
  options: { receivedAt: string; invalidUtf8: boolean },
): RequestCalls {
  return recordsPerCall(checkCalls(kind, body, options));
}

/** The log records, one per call, of a request checked by checkCalls. */
export function recordsPerCall(checked: CheckedRequest): RequestCalls {
  const out: RequestCalls = { records: [], calls: [], accepted: 0, refused: [...checked.refused] };
  checked.items.forEach((item, index) => {
    if ('refusal' in item) {
      out.records.push(item.refusal);
      out.calls.push(undefined);
      return;
    }
    const json = JSON.stringify(item.call);
    if (json.length > CALL_LIMIT_BYTES && Buffer.byteLength(json) > CALL_LIMIT_BYTES) {
      const messageId = item.call.messageId as string;
      out.refused.push({ index, messageId, reason: 'Exceeded payload limit: a call may be at most 32 KB' });
      out.records.push(refusal(item.call, 'Exceeded payload limit: a call may be at most 32 KB'));
      out.calls.push(undefined);
      return;
    }
    out.records.push(`{"call":${json}}`);
    out.calls.push(item.call);
    out.accepted++;
  });
  out.refused.sort((a, b) => a.index - b.index);
  return out;
}

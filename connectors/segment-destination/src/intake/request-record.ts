import { z } from 'zod';
import { CALL_LIMIT_BYTES } from './body.js';
import { isUtf8 } from 'node:buffer';
import { checkCalls, recordsPerCall, type CheckedCall, type CheckedRequest } from './calls.js';
import type { Prepared } from './prepared.js';
import type { CallKind } from './routes.js';

/**
 * A request kept as one log record: a header line, then the request's body as it came (its JSON
 * text). Calls are not serialized one by one when they are accepted; what acceptance added to them
 * (the time, message IDs given to calls without one) is in the header, and reading the record
 * checks the calls again exactly as they were checked then (checkCalls). Records of one call each
 * (`{"call":…}`, `{"refused":…}`) are still written, and read, for the other requests.
 */
const PREFIX = '{"request":';

/**
 * Requests up to this size are kept whole: a call in them cannot pass 32 KB even with the batch's
 * context and what acceptance adds, so none is refused for its size as it is kept.
 */
export const WHOLE_REQUEST_LIMIT_BYTES = CALL_LIMIT_BYTES / 2;

const KINDS = ['track', 'identify', 'page', 'screen', 'alias', 'group', 'batch'] as const;

const headerSchema = z.object({
  /** Calls in the request (accepted and refused): how many the record counts for. */
  calls: z.number().int().nonnegative(),
  kind: z.enum(KINDS),
  receivedAt: z.string(),
  ids: z.array(z.tuple([z.number().int().nonnegative(), z.string()])),
});

export type RequestHeader = z.infer<typeof headerSchema>;

/** The record of a whole request; `calls` first, so that weighRecord finds it without parsing. */
export function requestRecord(header: RequestHeader, body: string): string {
  const { calls, kind, receivedAt, ids } = header;
  return `${PREFIX}${JSON.stringify({ calls, kind, receivedAt, ids })}}\n${body}`;
}

const CALLS = /^\{"request":\{"calls":(\d+)/;

/** How many calls a log record holds: a whole request's count, else one. */
export function weighRecord(text: string): number {
  if (!text.startsWith(PREFIX)) return 1;
  const count = Number(CALLS.exec(text)?.[1] ?? 1);
  return Number.isSafeInteger(count) ? count : 1;
}

export const isRequestRecord = (text: string): boolean => text.startsWith(PREFIX);

/** The calls of a whole-request record, checked again as when they were accepted; or why it cannot be read. */
export function readRequestRecord(text: string): CheckedRequest | { unreadable: string } {
  const newline = text.indexOf('\n');
  let header: RequestHeader;
  let body: unknown;
  try {
    const parsed = headerSchema.safeParse(
      (JSON.parse(text.slice(0, newline)) as { request?: unknown }).request,
    );
    if (!parsed.success) return { unreadable: 'a log record’s request header is not valid' };
    header = parsed.data;
    body = JSON.parse(text.slice(newline + 1));
  } catch {
    return { unreadable: 'a log record is not JSON (the log was changed on disk)' };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body) || newline === -1)
    return { unreadable: 'a log record’s request is not a JSON object' };
  const kind: CallKind = header.kind;
  if (kind === 'batch' && !Array.isArray((body as { batch?: unknown }).batch))
    return { unreadable: 'a log record’s batch has no "batch" array' };
  return checkCalls(kind, body as Record<string, unknown>, {
    receivedAt: header.receivedAt,
    invalidUtf8: false,
    givenIds: new Map(header.ids),
  });
}

export interface RequestRecords {
  /** The log records of the request: one for the whole request, or one per call. */
  records: string[];
  /** Beside each record, its calls prepared for delivery (when `prepare` is given). */
  memos: Array<Prepared[] | undefined> | undefined;
  calls: number;
  refused: CheckedRequest['refused'];
}

/**
 * The log records of one request whose calls are checked now. A request of valid UTF-8 up to
 * WHOLE_REQUEST_LIMIT_BYTES without a write key in it is kept whole, as it came; any other (its
 * bytes would hold a write key or bytes the checks stood in for, or a call could pass 32 KB) as one
 * record per call, each serialized as it is kept.
 */
export function logRecordsOf(
  request: { kind: CallKind; bytes: Buffer; text: string; body: Record<string, unknown>; receivedAt: string },
  prepare: ((item: CheckedCall) => Prepared) | undefined,
): RequestRecords {
  const { kind, bytes, text, body, receivedAt } = request;
  const invalidUtf8 = !isUtf8(bytes);
  const checked = checkCalls(kind, body, { receivedAt, invalidUtf8 });
  const calls = checked.items.length;
  if (!invalidUtf8 && !checked.heldWriteKey && bytes.length <= WHOLE_REQUEST_LIMIT_BYTES) {
    const records =
      calls > 0 ? [requestRecord({ calls, kind, receivedAt, ids: checked.givenIds }, text)] : [];
    const memos = prepare && records.length > 0 ? [checked.items.map(prepare)] : undefined;
    return { records, memos, calls, refused: checked.refused };
  }
  const perCall = recordsPerCall(checked);
  const memos =
    prepare && perCall.calls.map((call) => (call === undefined ? undefined : [prepare({ call })]));
  return { records: perCall.records, memos, calls, refused: perCall.refused };
}

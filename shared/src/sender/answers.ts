import { z } from 'zod';

/**
 * The one reader of Mixpanel's ingestion answers: what a status means for a request, the strict
 * `/import` partial failure (`failed_records`, mapped back to the records sent), and the `1` / `0` /
 * `{status, error}` answers of `/track`, `/engage` and `/groups`. The shared sender, the Segment
 * destination and `idmerge collect` (through the sender) all read answers here, so every path gives
 * the same record the same fate.
 */

/**
 * What an HTTP status asks of the request that got it:
 * - `accepted`: 200; the body still says what happened (`/track`, `/engage`, `/groups` answer 200
 *   with `0` for refused records);
 * - `refused`: 400 and every status not named below; never retried: it fails again and still
 *   counts toward the rate limit. A 400 of a strict `/import` is a partial success;
 * - `stop`: 401/403, the credentials are refused; every later request would be too;
 * - `split`: 413, the request is too large; its halves may pass;
 * - `wait`: 429, the project is over its rate limit; waiting does not use the failure budget;
 * - `retry`: 5xx, a failure on Mixpanel's side.
 */
export type StatusClass = 'accepted' | 'refused' | 'stop' | 'split' | 'wait' | 'retry';

export function classifyStatus(status: number): StatusClass {
  if (status === 200) return 'accepted';
  if (status === 401 || status === 403) return 'stop';
  if (status === 413) return 'split';
  if (status === 429) return 'wait';
  if (status >= 500) return 'retry';
  return 'refused';
}

/** One record Mixpanel refused in a strict `/import`, as far as the answer says which. */
export interface FailedRecord {
  index?: number;
  insertId?: string;
  field?: string;
  message: string;
}

// The item key is `insert_id` in the OpenAPI spec and `$insert_id` on the docs page, and plain
// strings (the insert ID alone) are seen live: all three are read.
const failedItem = z.union([
  z.string().transform((insertId): FailedRecord => ({ insertId, message: 'failed validation' })),
  z
    .looseObject({
      index: z.number().int().nonnegative().optional(),
      insert_id: z.string().optional(),
      $insert_id: z.string().optional(),
      field: z.string().optional(),
      message: z.string().optional(),
    })
    .transform((item): FailedRecord => ({
      index: item.index,
      insertId: item.$insert_id ?? item.insert_id,
      field: item.field,
      message: item.message ?? 'failed validation',
    })),
]);

const importFailure = z.looseObject({
  code: z.number().optional(),
  num_records_imported: z.number().optional(),
  failed_records: z.array(failedItem).optional(),
  error: z.string().optional(),
});

/** The `failed_records` of a strict `/import` 400; undefined when the body is not such an answer. */
export function readFailedRecords(body: string): FailedRecord[] | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  const parsed = importFailure.safeParse(json);
  return parsed.success ? (parsed.data.failed_records ?? []) : undefined;
}

/**
 * A strict `/import` 400 mapped back to the `count` records of the request:
 * - `partial`: `failedAt` holds each named record's failure by its position in the request; the
 *   others were ingested, except `unattributed` of them that Mixpanel refused without saying which;
 * - `refused`: the answer names no record, so the whole request failed (`reason` says how).
 */
export type StrictFailure =
  | { kind: 'partial'; failedAt: Map<number, FailedRecord>; unattributed: number }
  | { kind: 'refused'; reason: string };

/**
 * Reads a strict `/import` 400. A failure is placed by its `index` when that is inside the request,
 * else by its insert ID (the first record sent with that ID not failed yet); `insertIdAt(i)` gives
 * the `$insert_id` of record `i` and is called only when a failure carries no usable index.
 * Failures placed nowhere are counted in `unattributed` (at most the records not named).
 */
export function readStrictFailure(
  body: string,
  count: number,
  insertIdAt: (index: number) => string | undefined,
): StrictFailure {
  const failed = readFailedRecords(body);
  if (failed === undefined || failed.length === 0) {
    return { kind: 'refused', reason: `HTTP 400: ${body.slice(0, 300)}` };
  }
  const failedAt = new Map<number, FailedRecord>();
  let byInsertId: Map<string, number[]> | undefined;
  let unplaced = 0;
  for (const failure of failed) {
    let index: number | undefined;
    if (failure.index !== undefined && failure.index < count) index = failure.index;
    else if (failure.insertId !== undefined) {
      byInsertId ??= indexByInsertId(count, insertIdAt);
      index = byInsertId.get(failure.insertId)?.find((i) => !failedAt.has(i));
    }
    if (index === undefined) unplaced++;
    else failedAt.set(index, failure);
  }
  return { kind: 'partial', failedAt, unattributed: Math.min(unplaced, count - failedAt.size) };
}

function indexByInsertId(count: number, insertIdAt: (index: number) => string | undefined) {
  const positions = new Map<string, number[]>();
  for (let i = 0; i < count; i++) {
    const id = insertIdAt(i);
    if (id === undefined) continue;
    const list = positions.get(id);
    if (list === undefined) positions.set(id, [i]);
    else list.push(i);
  }
  return positions;
}

/**
 * The answer of `/track`, `/engage` or `/groups`: `1` / `0` as text, or `{"status":1|0,"error":…}`
 * with `verbose=1`. A 200 with `0` is a refusal.
 */
export function readStatusReply(body: string): { ok: true } | { ok: false; error: string } {
  const text = body.trim();
  if (text === '1') return { ok: true };
  if (text === '0') return { ok: false, error: 'Mixpanel answered 0 (record refused)' };
  try {
    const json = JSON.parse(text) as { status?: unknown; error?: unknown };
    if (json.status === 1 || json.status === '1' || json.status === 'OK') return { ok: true };
    return {
      ok: false,
      error: typeof json.error === 'string' ? json.error : `Mixpanel answered ${text.slice(0, 200)}`,
    };
  } catch {
    return { ok: false, error: `unexpected answer: ${text.slice(0, 200)}` };
  }
}

/**
 * Why Mixpanel did not replace a lookup table, from its answer (`PUT /lookup-tables/{id}`), for
 * people: the table is replaced whole or not at all, so every reason is the whole table's. A 400
 * lists at most 10 failing rows (`failed_records`, `index` counting data rows from 0); a 413 means
 * the CSV is over 100 MB uncompressed; a 429 that the project replaced lookup tables more than 100
 * times in 24 hours; 404 that no lookup table has that ID (tables are made in Mixpanel's UI first).
 */
export function readLookupTableRefusal(
  status: number,
  body: string,
): { reason: string; failedRows: FailedRecord[] } {
  const failedRows = readFailedRecords(body) ?? [];
  const text = body.slice(0, 300);
  switch (status) {
    case 400:
      return {
        reason:
          failedRows.length > 0
            ? `Mixpanel refused the table (HTTP 400), nothing was replaced: ${failedRows
                .map((row) => `${row.index === undefined ? '' : `row ${row.index}: `}${row.message}`)
                .join('; ')}`
            : `Mixpanel refused the table (HTTP 400), nothing was replaced: ${text}`,
        failedRows,
      };
    case 401:
    case 403:
      return {
        reason:
          `Mixpanel refused the credentials (HTTP ${status}): lookup tables take a service account ` +
          '(MIXPANEL_SERVICE_ACCOUNT_USERNAME, MIXPANEL_SERVICE_ACCOUNT_SECRET, MIXPANEL_PROJECT_ID) of the project, in its region',
        failedRows,
      };
    case 404:
      return {
        reason: `Mixpanel has no lookup table with this ID (HTTP 404): create it in Mixpanel's UI and copy its ID from Lexicon: ${text}`,
        failedRows,
      };
    case 413:
      return {
        reason:
          'Mixpanel refused the table as over 100 MB uncompressed (HTTP 413): send fewer columns (long URLs and free text are the usual culprits) or fewer rows',
        failedRows,
      };
    case 429:
      return {
        reason:
          'still rate-limited (HTTP 429): Mixpanel takes at most 100 lookup-table replaces per project in 24 hours; sync lookup tables at most hourly',
        failedRows,
      };
    default:
      return { reason: `HTTP ${status}: ${text}`, failedRows };
  }
}

import { parse } from 'csv-parse/sync';
import { LIMITS } from '../validation/index.js';
import { apiError, INVALID_CREDENTIALS, jsonAnswer, type Answer } from './answer.js';
import { serviceAccountAuth } from './auth.js';
import { BodyError, drain, readBody } from './body.js';
import type { Exchange } from './exchange.js';

/** A cell as stored: `null` for an empty unquoted field (Mixpanel: no value), else its text. */
export type LookupCell = string | null;

export interface StoredLookupTable {
  header: string[];
  /** Data rows, in the order sent; the first cell is the row's ID. */
  rows: LookupCell[][];
  replacedAt: string;
  /** Successful replaces of this table since the sandbox started (or was reset). */
  replaces: number;
}

/** Mixpanel names at most this many failing rows in a 400. */
const MAX_FAILED_ROWS = 10;
const DAY_MS = 24 * 60 * 60 * 1000;

/** The lookup tables the sandbox holds, and the project's replaces of the last 24 hours. */
export class LookupTables {
  readonly tables = new Map<string, StoredLookupTable>();
  private replacedAtMs: number[] = [];

  constructor(private readonly perDay: number = LIMITS.lookupTableReplacesPerDay) {}

  /** Counts a replace against the rolling 24-hour quota; false when the quota is used up. */
  takeQuota(nowMs: number): boolean {
    this.replacedAtMs = this.replacedAtMs.filter((at) => at > nowMs - DAY_MS);
    if (this.replacedAtMs.length >= this.perDay) return false;
    this.replacedAtMs.push(nowMs);
    return true;
  }

  reset(): void {
    this.tables.clear();
    this.replacedAtMs = [];
  }
}

/** The `{id}` of `/<prefix>/{id}`, decoded; undefined when the path has no single such part. */
export function pathId(path: string, prefix: string): string | undefined {
  const rest = path.slice(prefix.length + 1);
  if (!path.startsWith(`${prefix}/`) || rest === '' || rest.includes('/')) return undefined;
  try {
    return decodeURIComponent(rest);
  } catch {
    return undefined;
  }
}

type Parsed =
  | { ok: true; header: string[]; rows: LookupCell[][] }
  | { ok: false; failed: Array<{ index: number; message: string }>; error?: string };

/**
 * Mixpanel's validation of a lookup table (its reference page): RFC 4180 CSV, a header row of
 * unique names, every row as many fields as the header, the first column unique. An empty unquoted
 * field is no value (`null`); a quoted empty one is an empty string. `index` counts data rows from 0.
 */
export function parseLookupTable(text: string): Parsed {
  let records: LookupCell[][];
  try {
    records = parse(text, {
      cast: (value, context) => (context.quoting || value !== '' ? value : null),
      relax_column_count: true,
      bom: true,
    }) as LookupCell[][];
  } catch (error) {
    return {
      ok: false,
      failed: [],
      error: `the body is not valid CSV (RFC 4180): ${(error as Error).message}`,
    };
  }
  const [header, ...rows] = records;
  if (header === undefined)
    return { ok: false, failed: [], error: 'the table is empty: a header row is required' };
  const names = header.map((name) => name ?? '');
  const repeated = names.find((name, i) => names.indexOf(name) !== i);
  if (repeated !== undefined || names.includes(''))
    return {
      ok: false,
      failed: [],
      error:
        repeated !== undefined
          ? `invalid header: the column name "${repeated}" appears twice`
          : 'invalid header: a column has no name',
    };
  const failed: Array<{ index: number; message: string }> = [];
  const firstRowOf = new Map<string, number>();
  rows.forEach((row, index) => {
    if (row.length !== header.length) {
      failed.push({ index, message: 'invalid row: wrong number of fields' });
      return;
    }
    const key = row[0];
    if (key === null || key === undefined || key === '') {
      failed.push({ index, message: 'invalid row: the primary key (first column) is empty' });
      return;
    }
    const earlier = firstRowOf.get(key);
    if (earlier !== undefined)
      failed.push({
        index,
        message: `invalid row: row indexes ${earlier} and ${index} have the same primary key`,
      });
    else firstRowOf.set(key, index);
  });
  if (failed.length > 0) return { ok: false, failed: failed.slice(0, MAX_FAILED_ROWS) };
  return { ok: true, header: names, rows };
}

/**
 * `PUT /lookup-tables/{id}?project_id=…` as Mixpanel answers it: a service account only (HTTP
 * Basic with its `project_id`), the body up to 100 MB uncompressed (gzip taken) or 413, at most 100
 * replaces per rolling 24 hours or 429, the table replaced whole or, with a 400 naming at most 10
 * rows, not at all. The sandbox takes any table ID (Mixpanel: only tables made in its UI).
 */
export async function replaceLookupTableEndpoint(ex: Exchange): Promise<Answer> {
  const id = pathId(ex.path, '/lookup-tables');
  if (id === undefined) {
    await drain(ex.req);
    return apiError(404, 'no such lookup table: give its ID, PUT /lookup-tables/{id}');
  }
  if (!serviceAccountAuth(ex.req, ex.url, ex.sandbox.credentials)) {
    await drain(ex.req);
    return apiError(401, INVALID_CREDENTIALS, {
      reason: 'lookup tables take a service account (HTTP Basic username:secret) and ?project_id=',
    });
  }
  let body: Buffer;
  try {
    body = await readBody(ex.req, LIMITS.maxLookupTableBytes);
  } catch (error) {
    if (error instanceof BodyError && error.status === 413)
      return apiError(413, 'Lookup table exceeds the 100MB uncompressed limit');
    throw error;
  }
  const parsed = parseLookupTable(body.toString('utf8'));
  if (!parsed.ok) {
    const reason = parsed.error ?? parsed.failed.map((f) => `row ${f.index}: ${f.message}`).join(' | ');
    return jsonAnswer(
      400,
      {
        code: 400,
        error: parsed.error ?? 'some data points in the request failed validation',
        failed_records: parsed.failed,
        status: 0,
      },
      { reason },
    );
  }
  const tables = ex.sandbox.lookupTables;
  if (!tables.takeQuota(ex.receivedMs))
    return apiError(
      429,
      'Project exceeded rate limits for lookup tables: at most 100 replaces in a rolling 24 hours.',
    );
  const replaces = (tables.tables.get(id)?.replaces ?? 0) + 1;
  tables.tables.set(id, {
    header: parsed.header,
    rows: parsed.rows,
    replacedAt: new Date(ex.receivedMs).toISOString(),
    replaces,
  });
  return jsonAnswer(
    200,
    { code: 200, status: 'OK' },
    { records: parsed.rows.length, accepted: parsed.rows.length },
  );
}

/** `GET /_sandbox/lookup-tables/{id}`: the stored table (header, rows with `null` for no value). */
export function lookupTableInspection(ex: Exchange): Answer {
  const id = pathId(ex.path, '/_sandbox/lookup-tables');
  const table = id === undefined ? undefined : ex.sandbox.lookupTables.tables.get(id);
  if (id === undefined || table === undefined)
    return apiError(
      404,
      `no lookup table ${JSON.stringify(id ?? '')} has been replaced since the sandbox started`,
    );
  return jsonAnswer(200, { id, ...table });
}

/** `GET /_sandbox/lookup-tables`: every stored table's ID, row count and last replace. */
export function lookupTablesInspection(ex: Exchange): Answer {
  return jsonAnswer(
    200,
    Object.fromEntries(
      [...ex.sandbox.lookupTables.tables].map(([id, t]) => [
        id,
        { columns: t.header.length, rows: t.rows.length, replacedAt: t.replacedAt, replaces: t.replaces },
      ]),
    ),
  );
}

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DuckDBInstance, DuckDBTypeId, type DuckDBConnection, type DuckDBType } from '@duckdb/node-api';
import { z } from 'zod';

/**
 * A test-only BigQuery on 127.0.0.1 speaking the REST protocol the official client uses:
 * `POST /bigquery/v2/projects/{p}/queries` (jobs.query) and `GET …/queries/{jobId}`
 * (getQueryResults) with `maxResults`/`pageToken` paging, `jobComplete: false` while a job is
 * "running", errors in the API's JSON shape, and a Bearer token on every request. Queries run on an
 * in-memory DuckDB: GoogleSQL's backtick names and `@name` parameters are rewritten, its functions
 * (`timestamp_sub`, `farm_fingerprint`, …) are DuckDB macros. Values go out as the API sends them:
 * every scalar as text, TIMESTAMP as int64 microseconds.
 */
export interface FakeBigQueryOptions {
  project: string;
  token: string;
  /** SQL run at start (create and fill tables). */
  setup: string[];
  /** How many `jobComplete: false` answers a query gets before its result (default 0). */
  pendingPolls?: (query: string) => number;
}

export interface FakeBigQueryRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body?: unknown;
}

export interface FakeBigQuery {
  url: string;
  requests: FakeBigQueryRequest[];
  close(): Promise<void>;
}

const DIALECT = [
  "set TimeZone = 'UTC'",
  'create macro timestamp_sub(t, i) as t - i',
  'create macro datetime_sub(t, i) as t - i',
  'create macro date_sub(t, i) as t - i',
  // Any stable 64-bit hash serves the fake; BigQuery's own is FarmHash.
  'create macro farm_fingerprint(s) as cast(hash(s) >> 1 as bigint)',
  'create type float64 as double',
  'create macro regexp_contains(s, pattern) as regexp_matches(s, pattern)',
];

const queryRequestSchema = z.looseObject({
  query: z.string(),
  maxResults: z.number().int().positive().optional(),
  useLegacySql: z.boolean().optional(),
  queryParameters: z
    .array(
      z.looseObject({
        name: z.string(),
        parameterType: z.looseObject({ type: z.string() }),
        parameterValue: z.looseObject({ value: z.unknown() }),
      }),
    )
    .optional(),
});

interface StoredJob {
  id: string;
  fields: Array<{ name: string; type: string; mode: string }>;
  rows: Array<{ f: Array<{ v: string | null }> }>;
  pendingPolls: number;
}

function bigQueryType(type: DuckDBType): string {
  switch (type.typeId) {
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.HUGEINT:
      return 'INTEGER';
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return 'FLOAT';
    case DuckDBTypeId.DECIMAL:
      return 'NUMERIC';
    case DuckDBTypeId.BOOLEAN:
      return 'BOOLEAN';
    case DuckDBTypeId.TIMESTAMP_TZ:
      return 'TIMESTAMP';
    case DuckDBTypeId.TIMESTAMP:
      return 'DATETIME';
    case DuckDBTypeId.DATE:
      return 'DATE';
    default:
      return 'STRING';
  }
}

/** A value as the REST API writes it: text, TIMESTAMP as microseconds since the epoch. */
function restValue(type: string, value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (type === 'TIMESTAMP' && value instanceof Date) return String(BigInt(value.getTime()) * 1000n);
  if (type === 'DATETIME' && value instanceof Date) return value.toISOString().slice(0, 19).replace('T', ' ');
  if (type === 'DATE' && value instanceof Date) return value.toISOString().slice(0, 10);
  return String(value);
}

/** GoogleSQL text as DuckDB reads it: backtick names become quoted names, `@p` becomes `$p`. */
function toDuckDb(query: string): string {
  return query
    .replace(/`([^`]*)`/g, (_m, name: string) => `"${name.replaceAll('"', '""')}"`)
    .replace(/@(\w+)/g, '$$$1')
    .replace(/\bsafe_cast\(/gi, 'try_cast(');
}

function apiError(res: ServerResponse, code: number, status: string, reason: string, message: string): void {
  res.writeHead(code, { 'content-type': 'application/json; charset=UTF-8' });
  res.end(
    JSON.stringify({
      error: { code, message, errors: [{ message, domain: 'global', reason }], status },
    }),
  );
}

async function readBody(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) text += (chunk as Buffer).toString('utf8');
  return text;
}

export async function startFakeBigQuery(options: FakeBigQueryOptions): Promise<FakeBigQuery> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection: DuckDBConnection = await instance.connect();
  for (const statement of [...DIALECT, ...options.setup]) await connection.run(statement);
  const jobs = new Map<string, StoredJob>();
  const requests: FakeBigQueryRequest[] = [];
  const base = `/bigquery/v2/projects/${options.project}`;

  function page(job: StoredJob, start: number, maxResults: number | undefined, kind: string) {
    const end = maxResults === undefined ? job.rows.length : Math.min(job.rows.length, start + maxResults);
    return {
      kind,
      schema: { fields: job.fields },
      jobReference: { projectId: options.project, jobId: job.id, location: 'US' },
      totalRows: String(job.rows.length),
      rows: job.rows.slice(start, end),
      ...(end < job.rows.length ? { pageToken: Buffer.from(String(end)).toString('base64url') } : {}),
      totalBytesProcessed: '0',
      jobComplete: true,
      cacheHit: false,
    };
  }

  async function runQuery(res: ServerResponse, body: unknown): Promise<void> {
    const parsed = queryRequestSchema.safeParse(body);
    if (!parsed.success) return apiError(res, 400, 'INVALID_ARGUMENT', 'invalid', parsed.error.message);
    const { query, queryParameters, maxResults } = parsed.data;
    const values: Record<string, string> = {};
    for (const parameter of queryParameters ?? [])
      values[parameter.name] = String(parameter.parameterValue.value);
    let reader;
    try {
      reader = await connection.runAndReadAll(toDuckDb(query), values);
    } catch (error) {
      const message = ((error as Error).message.split('\n')[0] ?? '').replace(/^[A-Za-z ]+Error: /, '');
      return apiError(
        res,
        400,
        'INVALID_ARGUMENT',
        'invalidQuery',
        `Syntax error or unknown name: ${message}`,
      );
    }
    const types = reader.columnTypes().map(bigQueryType);
    const fields = reader
      .columnNames()
      .map((name, i) => ({ name, type: types[i] as string, mode: 'NULLABLE' }));
    const rows = reader.getRowsJS().map((row) => ({
      f: row.map((value, i) => ({ v: restValue(types[i] as string, value) })),
    }));
    const job: StoredJob = {
      id: `job_${randomUUID()}`,
      fields,
      rows,
      pendingPolls: options.pendingPolls?.(query) ?? 0,
    };
    jobs.set(job.id, job);
    res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
    if (job.pendingPolls > 0) {
      res.end(
        JSON.stringify({
          kind: 'bigquery#queryResponse',
          jobReference: { projectId: options.project, jobId: job.id, location: 'US' },
          jobComplete: false,
        }),
      );
      return;
    }
    res.end(JSON.stringify(page(job, 0, maxResults, 'bigquery#queryResponse')));
  }

  function getResults(res: ServerResponse, jobId: string, query: Record<string, string>): void {
    const job = jobs.get(jobId);
    if (job === undefined)
      return apiError(res, 404, 'NOT_FOUND', 'notFound', `Not found: Job ${options.project}:${jobId}`);
    res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
    if (job.pendingPolls > 0) {
      job.pendingPolls--;
      res.end(
        JSON.stringify({
          kind: 'bigquery#getQueryResultsResponse',
          jobReference: { projectId: options.project, jobId, location: 'US' },
          jobComplete: false,
        }),
      );
      return;
    }
    const start = query.pageToken ? Number(Buffer.from(query.pageToken, 'base64url').toString()) : 0;
    const maxResults = query.maxResults ? Number(query.maxResults) : undefined;
    res.end(JSON.stringify(page(job, start, maxResults, 'bigquery#getQueryResultsResponse')));
  }

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const text = await readBody(req);
      const body = text === '' ? undefined : (JSON.parse(text) as unknown);
      requests.push({
        method: req.method ?? '',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        body,
      });
      if (req.headers.authorization !== `Bearer ${options.token}`) {
        return apiError(
          res,
          401,
          'UNAUTHENTICATED',
          'unauthorized',
          'Request had invalid authentication credentials. Expected OAuth 2 access token.',
        );
      }
      if (req.method === 'POST' && url.pathname === `${base}/queries`) return runQuery(res, body);
      const results = new RegExp(`^${base}/queries/([^/]+)$`).exec(url.pathname);
      if (req.method === 'GET' && results !== null)
        return getResults(
          res,
          decodeURIComponent(results[1] as string),
          Object.fromEntries(url.searchParams),
        );
      return apiError(
        res,
        404,
        'NOT_FOUND',
        'notFound',
        `The fake BigQuery does not serve ${req.method} ${url.pathname}`,
      );
    })().catch((error: unknown) => apiError(res, 500, 'INTERNAL', 'backendError', String(error)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      connection.closeSync();
      instance.closeSync();
    },
  };
}

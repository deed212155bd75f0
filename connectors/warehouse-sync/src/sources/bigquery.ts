import type { BigQuery, Job, Query } from '@google-cloud/bigquery';
import { z } from 'zod';
import type { BigQuerySourceOptions } from './bigquery-settings.js';
import {
  bigQueryDialect as dialect,
  namedParams,
  windowSpec,
  type BigQueryStatement,
} from './bigquery-sql.js';
import { bigQueryFieldSchema, rowFromRest, textAt, type BigQueryField } from './bigquery-values.js';
import type { ColumnInfo, Page, ReadWindow, WarehouseSource } from './source.js';
import { namedColumn } from './named-column.js';
import {
  checkWindow,
  CURSOR_TEXT,
  KEY_TEXT,
  maxCursorFrom,
  maxCursorStatement,
  segmentStatement,
  segmentsToRead,
  type Segment,
  type WindowSpec,
} from './window.js';
import { streamedPages, type PositionedRows } from './window-pages.js';

export {
  bigQueryOptionsFrom,
  BigQuerySettingsError,
  type BigQuerySourceOptions,
} from './bigquery-settings.js';

/** What this source reads of a jobs.query / getQueryResults reply. */
const replySchema = z.looseObject({
  jobComplete: z.boolean().optional(),
  schema: z.looseObject({ fields: z.array(bigQueryFieldSchema).optional() }).optional(),
});

const POSITION_COLUMNS = new Set([CURSOR_TEXT, KEY_TEXT]);

/** The next request the client prepared (it carries the job), when there are more results. */
type NextQuery = Query & { job?: Job };

/** One answer of `query` / `getQueryResults` with autoPaginate off: rows, next request, raw reply. */
function pageOf(result: unknown): { rows: unknown[]; next?: NextQuery; reply: unknown } {
  const parts = z.array(z.unknown()).parse(result);
  const rows = z.array(z.unknown()).parse(parts[0] ?? []);
  const next = parts[1];
  return {
    rows,
    next: typeof next === 'object' && next !== null ? (next as NextQuery) : undefined,
    reply: parts[2],
  };
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The API's error as one line: its message and reason, never a credential. */
function failure(error: unknown, doing: string): Error {
  const parsed = z
    .looseObject({
      message: z.string().optional(),
      code: z.union([z.number(), z.string()]).optional(),
      errors: z.array(z.looseObject({ reason: z.string().optional() })).optional(),
    })
    .safeParse(error);
  const message = (parsed.success ? (parsed.data.message ?? String(error)) : String(error))
    .replace(/\s*\n\s*/g, ' ')
    .trim();
  const reason = parsed.success ? parsed.data.errors?.[0]?.reason : undefined;
  const code = parsed.success ? parsed.data.code : undefined;
  const detail = [code !== undefined ? `HTTP ${code}` : undefined, reason].filter(Boolean).join(', ');
  return new Error(`BigQuery query failed while ${doing}: ${message}${detail ? ` (${detail})` : ''}`);
}

/**
 * BigQuery through the official client: one query per window, ordered by (cursor, primary key) with
 * named parameters, read a page at a time through the API's page tokens (`maxResults` = page size),
 * so memory stays bounded by the page; `jobComplete: false` answers are polled until done.
 */
export function createBigQuerySource(options: BigQuerySourceOptions): WarehouseSource {
  let client: BigQuery | undefined;
  let fields: BigQueryField[] | undefined;
  const base = options.query?.trim().replace(/;+\s*$/, '') ?? `select * from ${options.table ?? ''}`;
  const relation = `(${base}) as source_rows`;

  function bigquery(): BigQuery {
    if (client === undefined) throw new Error('the BigQuery source is not connected; call connect() first');
    return client;
  }

  /** Runs a statement; yields each page of raw REST rows with the schema, polling while the job runs. */
  async function* run(
    statement: BigQueryStatement,
    doing: string,
    pageSize?: number,
  ): AsyncGenerator<{ rows: unknown[]; fields: BigQueryField[] }> {
    const request: Query = {
      query: statement.query,
      params: statement.params,
      location: options.location,
      ...(pageSize !== undefined ? { maxResults: pageSize } : {}),
    };
    let schema: BigQueryField[] = [];
    let polls = 0;
    try {
      // With autoPaginate off the client answers [rows, nextQuery, reply] (its typings say otherwise).
      let page = pageOf(
        await bigquery().query(request, {
          autoPaginate: false,
          skipParsing: true,
          ...(pageSize !== undefined ? { maxResults: pageSize } : {}),
        }),
      );
      for (;;) {
        const reply = replySchema.parse(page.reply ?? {});
        schema = reply.schema?.fields ?? schema;
        if (reply.jobComplete === false) {
          await sleep(Math.min(1000, 50 * 2 ** polls++)); // the job is still running
        } else if (page.rows.length > 0 || page.next === undefined) {
          yield { rows: page.rows, fields: schema };
        }
        const next = page.next;
        if (next?.job === undefined) return;
        page = pageOf(await next.job.getQueryResults({ ...next, autoPaginate: false, skipParsing: true }));
      }
    } catch (error) {
      throw failure(error, doing);
    }
  }

  async function columns(): Promise<BigQueryField[]> {
    if (fields === undefined) {
      for await (const page of run(
        { query: `select * from ${relation} limit 0`, params: {} },
        'describing the query',
      ))
        fields = page.fields;
    }
    return fields ?? [];
  }

  async function column(name: string, setting: string): Promise<BigQueryField> {
    return namedColumn(await columns(), name, { prefix: `${setting} "${name}": `, relation: 'the query' });
  }

  /** The window's columns, from the query's schema. */
  async function specFor(window?: ReadWindow): Promise<WindowSpec> {
    const cursor = options.cursor === undefined ? undefined : await column(options.cursor, 'cursor');
    const key = await column(options.primaryKey, 'primary_key');
    const shard = window?.shard === undefined ? undefined : await column(window.shard.column, 'shard column');
    return windowSpec(relation, key, cursor, shard);
  }

  /** One segment of the window in one query, read a result page at a time. */
  async function* batches(
    spec: WindowSpec,
    window: ReadWindow,
    segment: Segment,
  ): AsyncGenerator<PositionedRows> {
    const statement = segmentStatement(dialect, spec, window, segment);
    const request = { query: statement.text, params: namedParams(statement.params) };
    for await (const page of run(request, 'reading the window', window.pageSize)) {
      if (page.rows.length === 0) continue;
      const cursorIndex = page.fields.findIndex((f) => f.name === CURSOR_TEXT);
      const keyIndex = page.fields.findIndex((f) => f.name === KEY_TEXT);
      yield {
        rows: page.rows.map((raw) => rowFromRest(page.fields, raw, POSITION_COLUMNS)),
        positions: page.rows.map((raw) => {
          const position = { cursor: textAt(raw, cursorIndex), key: textAt(raw, keyIndex) };
          return segment === 'null' ? { ...position, nullCursor: true } : position;
        }),
      };
    }
  }

  return {
    async connect() {
      const { BigQuery } = await import('@google-cloud/bigquery');
      client = new BigQuery({
        projectId: options.projectId,
        location: options.location,
        ...(options.apiEndpoint !== undefined ? { apiEndpoint: options.apiEndpoint } : {}),
        ...(options.authClient !== undefined
          ? { authClient: options.authClient }
          : options.keyFilename !== undefined
            ? { keyFilename: options.keyFilename }
            : {}),
      });
      // Fails early, with BigQuery's message, when the query, the table or a column is wrong.
      await column(options.primaryKey, 'primary_key');
      if (options.cursor !== undefined) await column(options.cursor, 'cursor');
    },
    async describe(): Promise<ColumnInfo[]> {
      return (await columns()).map((c) => ({ name: c.name, type: c.type }));
    },
    async maxCursor() {
      if (options.cursor === undefined) return undefined;
      const spec = await specFor();
      const statement = maxCursorStatement(dialect, spec);
      for await (const page of run(
        { query: statement.text, params: namedParams(statement.params) },
        'reading the maximum of the cursor',
      )) {
        const first = page.rows[0];
        if (first === undefined) return undefined;
        const row: Record<string, unknown> = {};
        page.fields.forEach((field, index) => {
          const text = textAt(first, index);
          row[field.name] = text === '' ? undefined : text;
        });
        return maxCursorFrom(dialect, spec, row);
      }
      return undefined;
    },
    async *pages(window: ReadWindow): AsyncGenerator<Page> {
      const spec = await specFor(window);
      checkWindow(spec, window);
      for (const segment of segmentsToRead(spec, window))
        yield* streamedPages(batches(spec, window, segment), { positioned: segment !== 'null_key' });
    },
    async close() {
      client = undefined;
      fields = undefined;
    },
  };
}

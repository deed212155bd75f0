import type pg from 'pg';
import type Cursor from 'pg-cursor';
import { loadedPostgresDriver } from './postgres-driver.js';
import { describePostgresError, openSession, type Session } from './postgres-connection.js';
import type { PostgresSourceOptions } from './postgres-settings.js';
import { FLAVOURS, windowSpec, type PostgresColumn } from './postgres-sql.js';
import { typeName, typeParsers } from './postgres-values.js';
import { recordReader } from './postgres-record.js';
import { rowBuilder } from './row-builder.js';
import type { ColumnInfo, Page, PagePosition, ReadWindow, Row, WarehouseSource } from './source.js';
import { namedColumn } from './named-column.js';
import {
  checkWindow,
  maxCursorFrom,
  maxCursorStatement,
  segmentsToRead,
  segmentStatement,
  type Segment,
  type WindowSpec,
  type WindowStatement,
} from './window.js';
import { streamedPages, type PositionedRows } from './window-pages.js';

export {
  postgresOptionsFrom,
  PostgresSettingsError,
  type PostgresSourceOptions,
} from './postgres-settings.js';

/**
 * Rows fetched from the server-side cursor at a time (pages are at most this long): rows are
 * handed on while young, so they die in V8's young generation instead of piling up in a page.
 * Larger fetches measured slower per row (node-postgres parses a fetch's messages as one stream).
 */
const FETCH_ROWS = 1000;
/** Columns every window statement adds after the data: the cursor's and the key's texts. */
const POSITION_COLUMNS = 2;
/** PostgreSQL's `text` type: a column the description does not name is read as text. */
const TEXT_OID = 25;

/**
 * PostgreSQL (and Redshift, its `flavour`) through node-postgres. A window is one statement ordered
 * by (cursor, primary key), read through a server-side cursor a page at a time inside a read-only
 * transaction, so memory stays bounded by the page however large the table; a resumed run starts
 * strictly after its checkpoint. Each statement (each fetch of a page) runs under the session's
 * statement timeout. A window that names its columns (a sync's does) reads each row as one record
 * text on PostgreSQL (postgres-record.ts): the driver's cost is per value it receives. Errors name
 * the definition key at fault.
 */
export function createPostgresSource(options: PostgresSourceOptions): WarehouseSource {
  const sql = FLAVOURS[options.flavour];
  const dialect = sql.dialect;
  const label = `${options.flavour} source`;
  let session: Session | undefined;
  let described: PostgresColumn[] | undefined;
  /** The window being read now, if any: its cursor and transaction hold the connection. */
  let reading: { end(): Promise<void> } | undefined;
  // A query copied from an editor often ends with `;`, which cannot stand inside a subquery.
  const base = options.query?.trim().replace(/;+\s*$/, '') ?? `select * from ${options.table ?? ''}`;
  const relation = `(${base}) as source_rows`;
  const what = options.table !== undefined ? `source.table "${options.table}"` : 'source.query';

  function client(): pg.Client {
    if (session === undefined) throw new Error(`the ${label} is not connected; call connect() first`);
    if (reading !== undefined)
      throw new Error(`${label}: a window is still being read; finish or stop reading it first`);
    const broken = session.broken();
    if (broken !== undefined)
      throw new Error(`${label}: the connection was lost: ${describePostgresError(broken)}`);
    return session.client;
  }

  /** A server error while `doing`, with the definition key it points at. */
  function queryError(doing: string, error: unknown): Error {
    const reason = describePostgresError(error);
    const code = (error as { code?: unknown } | null)?.code;
    if (code === '42P01' || code === '42703' || code === '42601' || code === '42883')
      return new Error(`${label}: ${what} failed while ${doing}: ${reason}`);
    if (code === '57014')
      return new Error(
        `${label}: a statement ran past the statement timeout (${options.statementTimeoutMs / 1000} s) while ${doing}: ${reason}; raise source.statement_timeout`,
      );
    if (code === '42501')
      return new Error(`${label}: user "${options.user}" may not read ${what}: ${reason}; grant it SELECT`);
    return new Error(`${label}: query failed while ${doing}: ${reason}`);
  }

  /** Runs `use` inside a read-only transaction, ended however `use` ends. */
  async function readOnly<T>(doing: string, use: (c: pg.Client) => Promise<T>): Promise<T> {
    const c = client();
    try {
      await c.query(sql.begin);
    } catch (error) {
      throw queryError(doing, error);
    }
    let result: T;
    try {
      result = await use(c);
    } catch (error) {
      await c.query('rollback').catch(() => undefined);
      throw error;
    }
    await c.query('commit');
    return result;
  }

  async function run(c: pg.Client, statement: WindowStatement, doing: string): Promise<pg.QueryResult> {
    try {
      return await c.query({ text: statement.text, values: statement.params, types: typeParsers });
    } catch (error) {
      throw queryError(doing, error);
    }
  }

  async function columns(): Promise<PostgresColumn[]> {
    if (described === undefined) {
      const result = await readOnly('describing its columns', (c) =>
        run(c, { text: `select * from ${relation} limit 0`, params: [] }, 'describing its columns'),
      );
      described = result.fields.map((field) => ({ name: field.name, oid: field.dataTypeID }));
    }
    return described;
  }

  /** The column a key names; PostgreSQL folds unquoted names to lower case, so say so when that is why. */
  async function column(name: string, key: string): Promise<PostgresColumn> {
    return namedColumn(await columns(), name, {
      prefix: `${label}: ${key} "${name}": `,
      relation: what,
      folded: (reported) =>
        `the column is called "${reported}" (unquoted names are lower case); write it that way`,
    });
  }

  async function checkSchema(): Promise<void> {
    if (options.schema === undefined) return;
    const found = await readOnly('checking the schema', (c) =>
      run(
        c,
        { text: 'select 1 from pg_namespace where nspname = $1', params: [options.schema as string] },
        'checking the schema',
      ),
    );
    if (found.rows.length === 0)
      throw new Error(
        `${label}: source.schema "${options.schema}" does not exist in database "${options.database}"`,
      );
  }

  /** The window's columns: cursor, key and (for a shard) the shard column, each checked to exist. */
  async function specFor(shard: string | undefined): Promise<WindowSpec> {
    const cursor = options.cursor === undefined ? undefined : await column(options.cursor, 'source.cursor');
    const key = await column(options.primaryKey, 'source.primary_key');
    const shardColumn = shard === undefined ? undefined : await column(shard, 'shard column');
    return windowSpec(sql, relation, key, cursor, shardColumn);
  }

  async function close(): Promise<void> {
    await reading?.end();
    const open = session;
    session = undefined;
    described = undefined;
    if (open !== undefined) await open.client.end().catch(() => undefined);
  }

  return {
    async connect() {
      session = await openSession(options, sql);
      try {
        // Fails early, naming the key, when the schema, the table, the query or a column is wrong.
        await checkSchema();
        await column(options.primaryKey, 'source.primary_key');
        if (options.cursor !== undefined) await column(options.cursor, 'source.cursor');
        for (const mapped of options.mappedColumns ?? []) await column(mapped.column, mapped.key);
      } catch (error) {
        await close();
        throw error;
      }
    },
    async describe(): Promise<ColumnInfo[]> {
      return (await columns()).map((c) => ({ name: c.name, type: typeName(c.oid) }));
    },
    async maxCursor() {
      if (options.cursor === undefined) return undefined;
      const spec = await specFor(undefined);
      const result = await readOnly('reading the maximum of the cursor', (c) =>
        run(c, maxCursorStatement(dialect, spec), 'reading the maximum of the cursor'),
      );
      return maxCursorFrom(dialect, spec, result.rows[0] as Record<string, unknown> | undefined);
    },
    async *pages(window: ReadWindow): AsyncGenerator<Page> {
      const spec = await specFor(window.shard?.column);
      checkWindow(spec, window);
      const described = await columns();
      const available = described.map((c) => c.name);
      const wanted = window.columns?.(available);
      const names = wanted ?? available;
      // Named columns are read as one record text a row where the dialect has one (not Redshift).
      const asRow = dialect.rowText !== undefined && wanted !== undefined;
      const oids = new Map(described.map((c) => [c.name, c.oid]));
      // The record holds the named columns, then the position columns (cursor and key, as text).
      const readRecord = asRow
        ? recordReader(
            names.map((name) => oids.get(name) ?? TEXT_OID),
            POSITION_COLUMNS,
          )
        : undefined;
      // A window read before and left unfinished (its reader never resumed nor returned) holds the
      // connection: it is ended first.
      await reading?.end();
      const c = client();
      try {
        await c.query(sql.begin);
      } catch (error) {
        throw queryError('reading the window', error);
      }
      let finished = false;
      let open: Cursor<unknown[]> | undefined;
      let ended: Promise<void> | undefined;
      const me = {
        end: () =>
          (ended ??= (async () => {
            if (reading === me) reading = undefined;
            await open?.close().catch(() => undefined);
            await c.query(finished ? 'commit' : 'rollback').catch(() => undefined);
          })()),
      };
      reading = me;

      /** One segment's statement through a server-side cursor, a fetch at a time. */
      async function* batches(statement: WindowStatement, segment: Segment): AsyncGenerator<PositionedRows> {
        const size = Math.max(1, Math.min(window.pageSize, FETCH_ROWS));
        const build = rowBuilder(names);
        const reader = c.query(
          new (loadedPostgresDriver().Cursor)<unknown[]>(statement.text, statement.params, {
            rowMode: 'array',
            types: typeParsers,
          }),
        );
        open = reader;
        const read = () => {
          const next = reader.read(size);
          // Awaited below; a read left in flight when the reader stops must not be an unhandled rejection.
          next.catch(() => undefined);
          return next;
        };
        // The next fetch is asked for before this one's rows are handed on: the server reads and sends
        // it while this thread maps, instead of each waiting for the other (one fetch ahead at most).
        let pending: Promise<unknown[][]> | undefined = read();
        while (pending !== undefined) {
          let fetched: unknown[][];
          try {
            fetched = await pending;
          } catch (error) {
            throw queryError('reading the window', error);
          }
          pending = fetched.length < size ? undefined : read();
          if (fetched.length === 0) break;
          const rows: Row[] = new Array(fetched.length);
          const positions: PagePosition[] = new Array(fetched.length);
          for (let i = 0; i < fetched.length; i++) {
            const fields = fetched[i] as unknown[];
            const values = readRecord === undefined ? fields : readRecord(fields[0] as string);
            rows[i] = build(values);
            const cursor = values[names.length];
            const position: PagePosition = {
              cursor: cursor === null || cursor === undefined ? '' : String(cursor),
              key: String(values[names.length + 1]),
            };
            positions[i] = segment === 'null' ? { ...position, nullCursor: true } : position;
          }
          yield { rows, positions };
        }
        await reader.close();
        open = undefined;
      }

      try {
        for (const segment of segmentsToRead(spec, window)) {
          const statement = segmentStatement(dialect, spec, window, segment, { columns: wanted, asRow });
          yield* streamedPages(batches(statement, segment), { positioned: segment !== 'null_key' });
        }
        finished = true;
      } finally {
        // A reader that stopped early (or an error) ends the transaction too; the session stays usable.
        await me.end();
      }
    },
    close,
  };
}

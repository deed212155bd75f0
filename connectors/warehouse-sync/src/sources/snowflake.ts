import type { Connection } from 'snowflake-sdk';
import { closeConnection, execute, openConnection } from './snowflake-driver.js';
import type { SnowflakeSourceOptions } from './snowflake-settings.js';
import { snowflakeDialect as dialect, typeName, windowSpec, type SnowflakeColumn } from './snowflake-sql.js';
import { rowFromDriver } from './snowflake-values.js';
import type { ColumnInfo, Page, PagePosition, ReadWindow, WarehouseSource } from './source.js';
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
import { keysetPages, type PositionedRows } from './window-pages.js';

export {
  snowflakeOptionsFrom,
  SnowflakeSettingsError,
  type SnowflakeSourceOptions,
} from './snowflake-settings.js';

/** The page query's extra columns, read for the position and left out of the rows. */
const POSITION_COLUMNS = new Set([CURSOR_TEXT, KEY_TEXT]);

/**
 * Snowflake through the official driver. Pages are keyset-paged on (cursor, primary key) with bind
 * variables, never OFFSET; cursor and key values travel as text in formats that keep every digit;
 * each page is streamed from the driver (inline rows, then result chunks), so memory stays bounded
 * by the page size.
 */
export function createSnowflakeSource(options: SnowflakeSourceOptions): WarehouseSource {
  let connection: Connection | undefined;
  let described: SnowflakeColumn[] | undefined;
  // A query copied from a worksheet often ends with `;`, which cannot stand inside a subquery.
  const base = options.query?.trim().replace(/;+\s*$/, '') ?? `select * from ${options.table ?? ''}`;
  const relation = `(${base}) as source_rows`;

  function session(): Connection {
    if (connection === undefined)
      throw new Error('the Snowflake source is not connected; call connect() first');
    return connection;
  }

  async function columns(): Promise<SnowflakeColumn[]> {
    if (described === undefined) {
      const statement = { sqlText: `select * from ${relation}`, binds: [] };
      described = (await execute(session(), statement, 'describing the query', true)).columns;
    }
    return described;
  }

  /** The column a setting names, exactly as Snowflake reports it (it upper-cases unquoted names). */
  async function column(name: string, setting: string): Promise<SnowflakeColumn> {
    return namedColumn(await columns(), name, {
      prefix: `${setting} "${name}": `,
      relation: 'the query',
      folded: (reported) =>
        `Snowflake reports this column as "${reported}"; write it that way, ` +
        `or alias it in the query (select ${reported} as "${name}" …)`,
    });
  }

  /** The window's columns, as Snowflake describes them. */
  async function specFor(window?: ReadWindow): Promise<WindowSpec> {
    const cursor = options.cursor === undefined ? undefined : await column(options.cursor, 'cursor');
    const key = await column(options.primaryKey, 'primary_key');
    const shard = window?.shard === undefined ? undefined : await column(window.shard.column, 'shard column');
    return windowSpec(relation, key, cursor, shard);
  }

  async function close(): Promise<void> {
    const open = connection;
    connection = undefined;
    described = undefined;
    if (open !== undefined && open.isUp()) await closeConnection(open);
  }

  return {
    async connect() {
      connection = await openConnection(options);
      try {
        // Fails early, with Snowflake's message, when the query, the table or a column is wrong.
        await column(options.primaryKey, 'primary_key');
        if (options.cursor !== undefined) await column(options.cursor, 'cursor');
      } catch (error) {
        await close();
        throw error;
      }
    },
    async describe(): Promise<ColumnInfo[]> {
      return (await columns()).map((c) => ({ name: c.name, type: typeName(c) }));
    },
    async maxCursor() {
      if (options.cursor === undefined) return undefined;
      const spec = await specFor();
      const statement = maxCursorStatement(dialect, spec);
      const result = await execute(
        session(),
        { sqlText: statement.text, binds: statement.params },
        'reading the maximum of the cursor',
      );
      for await (const row of result.rows()) return maxCursorFrom(dialect, spec, row);
      return undefined;
    },
    async *pages(window: ReadWindow): AsyncGenerator<Page> {
      const spec = await specFor(window);
      checkWindow(spec, window);
      /** One query of keyset paging: at most `limit` rows of `segment` strictly after `from`. */
      const fetch = async (segment: Segment, from: PagePosition | undefined, limit: number) => {
        const statement = segmentStatement(dialect, spec, { ...window, from }, segment, { limit });
        const result = await execute(
          session(),
          { sqlText: statement.text, binds: statement.params },
          'reading a page',
        );
        const types = new Map(result.columns.map((c) => [c.name, c]));
        const batch: PositionedRows = { rows: [], positions: [] };
        for await (const raw of result.rows()) {
          batch.rows.push(rowFromDriver(raw, types, POSITION_COLUMNS));
          const cursor = raw[CURSOR_TEXT];
          const position = {
            cursor: cursor === null || cursor === undefined ? '' : String(cursor),
            key: String(raw[KEY_TEXT]),
          };
          batch.positions.push(segment === 'null' ? { ...position, nullCursor: true } : position);
        }
        return batch;
      };
      for (const segment of segmentsToRead(spec, window)) {
        if (segment === 'null_key') {
          // No order to page on: one query, its rows handed on a page at a time as they stream.
          const statement = segmentStatement(dialect, spec, window, segment);
          const result = await execute(
            session(),
            { sqlText: statement.text, binds: statement.params },
            'reading the rows whose primary key is NULL',
          );
          const types = new Map(result.columns.map((c) => [c.name, c]));
          let rows: Page['rows'] = [];
          for await (const raw of result.rows()) {
            rows.push(rowFromDriver(raw, types, POSITION_COLUMNS));
            if (rows.length === window.pageSize) {
              yield { rows };
              rows = [];
            }
          }
          if (rows.length > 0) yield { rows };
          continue;
        }
        const start =
          window.from !== undefined && (window.from.nullCursor === true) === (segment === 'null')
            ? window.from
            : undefined;
        yield* keysetPages((from, limit) => fetch(segment, from, limit), window.pageSize, start);
      }
    },
    close,
  };
}

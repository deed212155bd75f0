import { columnsRead, lookupTableColumns, mapWarehouseRow, type Payload } from '@idmerge/shared';
import type { SyncDefinition } from './definition.js';
import { fingerprint } from './profile-hashes.js';
import type { Page, PagePosition, ReadWindow, Row } from './sources/source.js';

/** One row of a page after mapping: what to send for it, or why it cannot be sent. */
export type MappedRow =
  | {
      kind: 'send';
      /** The row's primary key value: all the sender keeps of the row, for a dead-letter entry. */
      key: unknown;
      /** /import events, serialized once, here (they carry no token, so nothing changes them later). */
      events: string[];
      /** Payloads for other endpoints (/engage), which the sender completes with the project token. */
      payloads: Payload[];
      /** Profiles: a hash of the mapped values, to skip rows unchanged since the last delivery. */
      hash?: string;
      /** Profiles and groups: the ID the row is sent as (`$distinct_id`, `$group_id`), for deletes. */
      id?: string;
    }
  | {
      kind: 'invalid';
      row: Row;
      /** Every problem, for the dead-letter entry. */
      reason: string;
      /** The first problem's field and code, to count invalid rows by reason in the run report. */
      tally: string;
      field?: string;
    };

/** A page of rows mapped for sending, with the position to checkpoint once it is delivered. */
export interface MappedPage {
  rows: MappedRow[];
  last?: PagePosition;
  /** Rows of the page whose cursor is NULL (all of them, or none). */
  nullCursor?: number;
  /** Rows sharing (cursor, primary key) with the row read before them. */
  duplicateKeys?: number;
}

/** What a profiles or groups row maps to, as compared with the last delivery of its key. */
export function profileFingerprint(payloads: readonly Payload[]): string {
  return fingerprint(payloads.map((payload) => payload.body));
}

/** The ID a profiles or groups row is sent as (none when the row maps to no update). */
export function profileId(payloads: readonly Payload[]): { id?: string } {
  const first = payloads[0];
  if (first?.endpoint === 'engage') return { id: first.body.$distinct_id };
  if (first?.endpoint === 'groups') return { id: first.body.$group_id };
  return {};
}

/** A row refused before mapping because a NULL leaves it no place in the read: which NULL, and why. */
export interface NullRefusal {
  code: 'null_key' | 'null_cursor';
  /** The run report's count key: `<column>: <code>`. */
  tally: string;
  field: string;
  reason: string;
}

/**
 * The one rule for rows the window can read but not place: a NULL primary key always refuses the
 * row (no checkpoint can stand on it, and it cannot be told apart from other such rows); a NULL
 * cursor (`nullCursor`: the page holds the window's NULL-cursor rows) refuses it unless the
 * definition says `null_cursor: deliver`. Undefined for a row that is mapped.
 */
export function nullRefusal(
  row: Row,
  source: Pick<SyncDefinition['source'], 'primary_key' | 'cursor' | 'null_cursor'>,
  nullCursor: boolean,
): NullRefusal | undefined {
  const { primary_key: primaryKey, cursor } = source;
  if (row[primaryKey] === null || row[primaryKey] === undefined)
    return {
      code: 'null_key',
      tally: `${primaryKey}: null_key`,
      field: primaryKey,
      reason:
        `row with ${primaryKey} NULL: ${primaryKey}: the primary key is NULL, so the row has no place in ` +
        `the read order (no checkpoint can stand on it) and cannot be told apart from other such rows; ` +
        `give every row a key (e.g. coalesce(${primaryKey}, <another unique column>) in the query)`,
    };
  if (!nullCursor || cursor === undefined || source.null_cursor !== 'dead_letter') return undefined;
  return {
    code: 'null_cursor',
    tally: `${cursor}: null_cursor`,
    field: cursor,
    reason:
      `row ${primaryKey}=${String(row[primaryKey])}: ${cursor}: the cursor is NULL, so the row belongs to ` +
      `no window; give it a value (e.g. coalesce(${cursor}, <another time column>) in the query), ` +
      `or set source.null_cursor: deliver to send such rows on every run`,
  };
}

/** A read window without `columns`: what can be handed to another thread. */
export type PlainReadWindow = Omit<ReadWindow, 'columns'>;

/** The window as a source reads it for `definition`: only the columns its mapping uses. */
export function windowFor(definition: SyncDefinition, window: PlainReadWindow): ReadWindow {
  const { mapping } = definition;
  return {
    ...window,
    columns: (available) =>
      mapping.type === 'lookup_table'
        ? lookupTableColumns(mapping)
        : columnsRead(mapping, available, [definition.source.primary_key]),
  };
}

/**
 * Maps each row of a page through the definition's column mapping: pure work with no I/O, so it
 * can run wherever the rows are read (in the run's thread, or in a worker thread beside it).
 */
export function pageMapper(definition: SyncDefinition): (page: Page) => MappedPage {
  const mapping = definition.mapping;
  if (mapping.type === 'lookup_table')
    throw new Error('a lookup table is replaced whole (lookup/run.ts), not mapped row by row');
  const primaryKey = definition.source.primary_key;
  const options = { mode: definition.mode, keyColumns: [primaryKey] };
  // Profiles and groups are sent only when changed: each row carries a hash of what it maps to.
  const profiles = definition.mapping.type === 'profiles' || definition.mapping.type === 'groups';
  const mapRow = (row: Row): MappedRow => {
    const mapped = mapWarehouseRow(row, mapping, options);
    if (!mapped.ok) {
      const first = mapped.errors[0];
      return {
        kind: 'invalid',
        row,
        reason: mapped.errors
          .map((e) => `${e.record}: ${e.field ? `${e.field}: ` : ''}${e.message}`)
          .join('; '),
        tally: `${first?.field || 'whole row'}: ${first?.code ?? 'invalid'}`,
        ...(first?.field ? { field: first.field } : {}),
      };
    }
    const events: string[] = [];
    const payloads: Payload[] = [];
    for (const payload of mapped.payloads) {
      if (payload.endpoint === 'import') events.push(JSON.stringify(payload.body));
      else payloads.push(payload);
    }
    return {
      kind: 'send',
      key: row[primaryKey],
      events,
      payloads,
      ...(profiles ? { hash: profileFingerprint(mapped.payloads) } : {}),
      ...(profiles ? profileId(mapped.payloads) : {}),
    };
  };
  return (page) => {
    const rows: MappedRow[] = new Array(page.rows.length);
    for (let i = 0; i < page.rows.length; i++) {
      const row = page.rows[i] as Row;
      const refused = nullRefusal(row, definition.source, page.nullCursor === true);
      if (refused !== undefined) {
        const { reason, tally, field } = refused;
        rows[i] = { kind: 'invalid', row, reason, tally, field };
        continue;
      }
      try {
        rows[i] = mapRow(row);
      } catch (error) {
        // A value no check foresaw made mapping or serializing throw: that row alone is refused.
        rows[i] = {
          kind: 'invalid',
          row,
          reason: `the row cannot be mapped: ${(error as Error).message}`,
          tally: 'whole row: mapping failed',
        };
      }
    }
    return {
      rows,
      ...(page.last === undefined ? {} : { last: page.last }),
      ...(page.nullCursor === true ? { nullCursor: page.rows.length } : {}),
      ...(page.duplicateKeys ? { duplicateKeys: page.duplicateKeys } : {}),
    };
  };
}

/**
 * A source that maps its own rows and hands over pages ready to send: the worker-thread source,
 * which reads and maps on another core while the run's thread delivers.
 */
export interface MappingSource {
  connect(): Promise<void>;
  maxCursor(): Promise<string | undefined>;
  mappedPages(window: PlainReadWindow): AsyncGenerator<MappedPage>;
  close(): Promise<void>;
}

/** A row as a source hands it over: column name to JS value (bigint, Date, string, number, …). */
export type Row = Record<string, unknown>;

/**
 * Where the next page starts: strictly after this (cursor, primary key) position. Cursor values
 * travel as text (the warehouse's own rendering), so any cursor type round-trips exactly.
 */
export interface PagePosition {
  cursor: string;
  key: string;
  /** The position is among the rows whose cursor is NULL (read after the window; `cursor` is ''). */
  nullCursor?: boolean;
}

/**
 * The rows a run reads: cursor in [after − lookback, upTo] ordered by (cursor, key), then the rows
 * with a NULL cursor ordered by key. See window.ts, where every SQL source builds it.
 */
export interface ReadWindow {
  /**
   * Inclusive lower bound of the cursor (the last run's bound; the lookback is subtracted from it);
   * none: from the start. Inclusive, so rows committed late with the bound's own value are read.
   */
  after?: string;
  /** Seconds subtracted from `after`, for rows committed late. */
  lookbackSeconds?: number;
  /** Inclusive upper bound, frozen when the run starts; none: no upper bound. */
  upTo?: string;
  /** Resume strictly after this position (from a checkpoint). */
  from?: PagePosition;
  pageSize: number;
  /** Only rows whose identity hashes to `index` of `count` shards. */
  shard?: { index: number; count: number; column: string };
  /**
   * Given the source's columns, the ones the caller uses. A source may read only those (less to
   * fetch and convert per row) or ignore it and hand over whole rows.
   */
  columns?: (available: readonly string[]) => readonly string[];
}

export interface Page {
  rows: Row[];
  /**
   * The position to checkpoint and to continue from: every row up to it is in this page or an
   * earlier one. Usually the last row's; an earlier row's when the next row shares the last row's
   * (cursor, key) (duplicate keys); none when no row of the page ends such a run.
   */
  last?: PagePosition;
  /** Every row of the page has a NULL cursor. */
  nullCursor?: boolean;
  /** Rows of this page sharing (cursor, primary key) with the row read before them. */
  duplicateKeys?: number;
}

export interface ColumnInfo {
  name: string;
  type: string;
}

/**
 * The small interface every warehouse implements: connect, describe the columns, read a window
 * page by page (never OFFSET), tell the current maximum of the cursor, close.
 */
export interface WarehouseSource {
  connect(): Promise<void>;
  describe(): Promise<ColumnInfo[]>;
  /**
   * The largest cursor value now, as text; the run freezes it as its upper bound. Refuses a cursor
   * the window cannot use (see window.ts), so a run stops before anything is sent.
   */
  maxCursor(): Promise<string | undefined>;
  pages(window: ReadWindow): AsyncGenerator<Page>;
  close(): Promise<void>;
}

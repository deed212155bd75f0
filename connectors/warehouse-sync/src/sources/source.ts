/** A row as a source hands it over: column name to JS value (bigint, Date, string, number, …). */
export type Row = Record<string, unknown>;

/**
 * Where the next page starts: strictly after this (cursor, primary key) position. Cursor values
 * travel as text (the warehouse's own rendering), so any cursor type round-trips exactly.
 */
export interface PagePosition {
  cursor: string;
  key: string;
}

/** The rows a run reads: the half-open window (after, upTo] on the cursor, paged by (cursor, key). */
export interface ReadWindow {
  /** Exclusive lower bound of the cursor (the last run's bound, minus the lookback); none: from the start. */
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
  /** The position of the last row, to checkpoint and to continue from. */
  last?: PagePosition;
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
  /** The largest cursor value now, as text; the run freezes it as its upper bound. */
  maxCursor(): Promise<string | undefined>;
  pages(window: ReadWindow): AsyncGenerator<Page>;
  close(): Promise<void>;
}

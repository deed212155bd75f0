/** Mixpanel's ingestion limits: per request, per event, per property. */
export const LIMITS = {
  maxEventsPerRequest: 2000,
  maxRequestBytes: 10_000_000,
  maxEventBytes: 1_000_000,
  maxProperties: 255,
  maxNestingDepth: 3,
  maxArrayItems: 255,
  maxObjectKeys: 255,
  maxStringLength: 255,
  maxCollectionBytes: 8192,
  maxProfileUpdatesPerRequest: 2000,
  /** A lookup table's CSV, uncompressed (Mixpanel answers 413 above it; MB read as 10^6 bytes, the lower reading). */
  maxLookupTableBytes: 100_000_000,
  /** Replaces of lookup tables Mixpanel takes per project in a rolling 24 hours (429 beyond). */
  lookupTableReplacesPerDay: 100,
} as const;

/**
 * How deep we let any value be nested, our own bound (not Mixpanel's): Mixpanel keeps at most
 * `LIMITS.maxNestingDepth` levels in event properties, and validation refuses deeper ones with the
 * exact field. This bound is far above that and far below the depth at which a recursion over the
 * value (ours, JSON.stringify's, hashing's) would exhaust the stack, so no value makes the mapping
 * layer or validation throw; a deeper value refuses its record.
 */
export const MAX_VALUE_DEPTH = 64;

/** Earliest time /import accepts: 1971-01-01T00:00:00Z. */
export const EARLIEST_EVENT_MS = Date.UTC(1971, 0, 1);
/** How far into the future /import accepts an event. */
export const MAX_FUTURE_MS = 60 * 60 * 1000;

/** Largest instant a Date can hold (±8.64e15 ms, about ±275,000 years). */
const MAX_DATE_MS = 8.64e15;

/** An instant for a message: ISO 8601 when a Date can hold it (toISOString throws otherwise). */
export function describeInstant(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS
    ? new Date(ms).toISOString()
    : `${ms} ms since the epoch, beyond any date`;
}

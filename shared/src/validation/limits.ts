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
} as const;

/** Earliest time /import accepts: 1971-01-01T00:00:00Z. */
export const EARLIEST_EVENT_MS = Date.UTC(1971, 0, 1);
/** How far into the future /import accepts an event. */
export const MAX_FUTURE_MS = 60 * 60 * 1000;

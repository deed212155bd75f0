import type { IdMergeMode } from '../payload/index.js';
import type { Violation } from '../validation/index.js';

export type FailureReason =
  | 'errAnonDistinctIdAssignedAlready'
  | 'errSameIDs'
  | 'errAnonDistinctIdNonGUIDForm'
  | 'errManyIDs'
  | 'errAliasAlreadyExists';

export type IngestOutcome =
  | {
      status: 'accepted';
      eventIndex: number;
      ingestedDistinctId: string;
      failureReason?: FailureReason;
      failureDescription?: string;
    }
  /** Same (event, distinct_id, time, $insert_id) as a stored event: no identity effect. */
  | { status: 'duplicate'; ingestedDistinctId: string }
  /** A truthy `$ignore`: Mixpanel drops it silently; counted here. */
  | { status: 'ignored' }
  /** Strict validation failed: the event is not stored and joins no cluster. */
  | { status: 'rejected'; violations: Violation[] };

export interface Cluster {
  distinct_id: string;
  members: string[];
}

export interface IdentityModelOptions {
  /** Validate each event as strict mode does (default true). Off only for trusted, pre-validated input. */
  validate?: boolean;
  /** The clock for the validation's "not too far in the future" rule. */
  nowMs?: () => number;
}

/** How one event is taken (IdentityModel.ingest). */
export interface IngestOptions {
  /**
   * Strict `/import`'s rules (default true). Not strict, as `/track` and plain `/import` take
   * events: an event without `$insert_id` is taken and never deduplicated, and in Simplified an
   * identity event (`$identify`, …) is an ordinary event.
   */
  strict?: boolean;
}

export interface IdentityStats {
  events: number;
  duplicates: number;
  ignored: number;
  rejected: number;
  ids: number;
  clusters: number;
}

export interface IdentityModel {
  readonly mode: IdMergeMode;
  ingest(event: unknown, options?: IngestOptions): IngestOutcome;
  ingestMany(events: Iterable<unknown>): IngestOutcome[];
  /** The canonical distinct_id the stored event is attributed to now (retroactive attribution). */
  currentDistinctId(eventIndex: number): string;
  ingestedDistinctId(eventIndex: number): string;
  /** The canonical distinct_id of an ID as stored (`$device:D` for Simplified devices), if known. */
  canonicalOf(id: string): string | undefined;
  /** How many IDs the cluster of `id` holds (0 when unknown). */
  clusterSizeOf(id: string): number;
  clusters(): Cluster[];
  stats(): IdentityStats;
}

import type { IdMergeMode } from '../payload/index.js';
import { OriginalIdentityModel } from './original.js';
import { SimplifiedIdentityModel } from './simplified.js';
import type { Cluster, FailureReason, IdentityModel, IdentityModelOptions } from './types.js';

export function createIdentityModel(mode: IdMergeMode, options?: IdentityModelOptions): IdentityModel {
  return mode === 'simplified' ? new SimplifiedIdentityModel(options) : new OriginalIdentityModel(options);
}

export type ResolvedEvent =
  | { index: number; ingested_distinct_id: string; distinct_id: string; failure_reason?: FailureReason }
  | { index: number; ingested_distinct_id: string; duplicate: true }
  | { index: number; ignored: true }
  | { index: number; rejected: string };

/** The document `idmerge resolve` prints (meanings and order of shared/test/fixtures/vectors/README.md). */
export interface ResolveDocument {
  mode: IdMergeMode;
  events: ResolvedEvent[];
  clusters: Cluster[];
}

/** Feeds events in ingestion order and reports, per event, where it lands once all are in. */
export function resolveEvents(
  mode: IdMergeMode,
  events: Iterable<unknown>,
  options?: IdentityModelOptions,
): ResolveDocument {
  const model = createIdentityModel(mode, options);
  const pending: Array<{ index: number; eventIndex: number; failure?: FailureReason } | ResolvedEvent> = [];
  let index = 0;
  for (const event of events) {
    const outcome = model.ingest(event);
    switch (outcome.status) {
      case 'accepted':
        pending.push({ index, eventIndex: outcome.eventIndex, failure: outcome.failureReason });
        break;
      case 'duplicate':
        pending.push({ index, ingested_distinct_id: outcome.ingestedDistinctId, duplicate: true });
        break;
      case 'ignored':
        pending.push({ index, ignored: true });
        break;
      case 'rejected':
        pending.push({
          index,
          rejected: outcome.violations
            .map((v) => (v.field ? `${v.field}: ${v.message}` : v.message))
            .join('; '),
        });
        break;
    }
    index++;
  }
  const resolved = pending.map((entry): ResolvedEvent => {
    if (!('eventIndex' in entry)) return entry;
    const event: ResolvedEvent = {
      index: entry.index,
      ingested_distinct_id: model.ingestedDistinctId(entry.eventIndex),
      distinct_id: model.currentDistinctId(entry.eventIndex),
    };
    if (entry.failure !== undefined) event.failure_reason = entry.failure;
    return event;
  });
  return { mode, events: resolved, clusters: model.clusters() };
}

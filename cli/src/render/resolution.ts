import type { Cluster, ResolveDocument } from '@idmerge/shared';
import { renderTable } from './table.js';

function field(event: unknown, name: string): string {
  if (typeof event !== 'object' || event === null) return '';
  const props = (event as { properties?: Record<string, unknown> }).properties ?? {};
  const value = props[name];
  return typeof value === 'string' ? value : Array.isArray(value) ? value.join(', ') : '';
}

function eventName(event: unknown): string {
  const name = typeof event === 'object' && event !== null ? (event as { event?: unknown }).event : undefined;
  return typeof name === 'string' ? name : '?';
}

/** One row per event: what was sent, where it was stored, where it ends up after merging. */
export function renderEventTable(events: readonly unknown[], document: ResolveDocument): string {
  const identityColumns =
    document.mode === 'simplified'
      ? (event: unknown) => [field(event, '$device_id'), field(event, '$user_id')]
      : (event: unknown) => [
          field(event, 'distinct_id'),
          [
            field(event, '$anon_id') || field(event, '$anon_distinct_id') || field(event, 'alias'),
            field(event, '$distinct_ids'),
          ]
            .filter(Boolean)
            .join(' '),
        ];
  const headers =
    document.mode === 'simplified'
      ? ['#', 'event', 'device', 'user', 'distinct_id at ingestion ⇒ after merge', 'note']
      : ['#', 'event', 'distinct_id', 'merges with', 'distinct_id at ingestion ⇒ after merge', 'note'];
  const rows = document.events.map((resolved) => {
    const event = events[resolved.index];
    const outcome =
      'rejected' in resolved
        ? ['—', `rejected: ${resolved.rejected}`]
        : 'ignored' in resolved
          ? ['—', 'ignored ($ignore)']
          : 'duplicate' in resolved
            ? [resolved.ingested_distinct_id, 'duplicate of an earlier event']
            : [`${resolved.ingested_distinct_id} ⇒ ${resolved.distinct_id}`, resolved.failure_reason ?? ''];
    return [String(resolved.index + 1), eventName(event), ...identityColumns(event), ...outcome];
  });
  return renderTable(headers, rows);
}

export function renderClusters(clusters: readonly Cluster[]): string {
  if (clusters.length === 0) return 'no clusters';
  return clusters.map((cluster) => `  ${cluster.distinct_id}: { ${cluster.members.join(', ')} }`).join('\n');
}

import {
  createIdentityModel,
  DEVICE_PREFIX,
  mapWarehouseRow,
  MAX_CLUSTER_IDS,
  type Cluster,
  type FailureReason,
  type IdentityModel,
  type Payload,
} from '@idmerge/shared';
import { correctionWarnings } from './correction-warnings.js';
import type { SyncDefinition } from './definition.js';
import { nullRefusal } from './map-page.js';
import { PreviewCounter, type PreviewCounts } from './preview-counts.js';
import type { WarehouseSource } from './sources/source.js';

export interface PreviewWarning {
  code: string;
  count: number;
  message: string;
  examples: string[];
}

export interface PreviewReport {
  mode: SyncDefinition['mode'];
  rowsRead: number;
  invalidRows: number;
  invalidByReason: Record<string, number>;
  samplePayloads: Payload[];
  clusters: { total: number; withUser: number; largest: Array<{ distinct_id: string; size: number }> };
  devicesPerUser: { average: number; max: number };
  identityFailures: Partial<Record<FailureReason, number>>;
  warnings: PreviewWarning[];
  /** The predicted clusters (those with more than one ID, or all when few). */
  predictedClusters: Cluster[];
  /** What a run would send: created, updated, unchanged, deleted (see preview-counts.ts). */
  counts: PreviewCounts;
}

const NEAR_CAP = Math.floor(MAX_CLUSTER_IDS * 0.9);

const DUPLICATE_KEYS =
  'rows sharing their primary key (and cursor value) with another row: all are read and sent, ' +
  'but an insert_id taken from the key makes Mixpanel keep only one of them';

const nullCursorMessage = (cursor: string, handling: 'dead_letter' | 'deliver') =>
  `rows whose cursor ${cursor} is NULL: they belong to no window, so every run reads them again and ` +
  (handling === 'deliver'
    ? 'delivers them (null_cursor: deliver)'
    : 'dead-letters them (null_cursor: dead_letter)');

function isDevice(id: string, mode: SyncDefinition['mode'], anonymous: Set<string>): boolean {
  return mode === 'simplified' ? id.startsWith(DEVICE_PREFIX) : anonymous.has(id);
}

/**
 * What a sync would do to identities, before anything is sent: maps up to `limit` rows, resolves
 * them with the identity model exactly as Mixpanel would, and reports clusters and the warnings of
 * the spec (devices claimed by several users, invalid IDs, non-UUID anonymous IDs, clusters near
 * the 500-ID cap).
 */
export async function previewSync(
  definition: SyncDefinition,
  source: WarehouseSource,
  limit?: number,
  /** Resolve into this model, to predict several syncs of one project together. */
  model: IdentityModel = createIdentityModel(definition.mode),
  /** The sync's state folder, to count profiles as created, updated, unchanged and deleted. */
  options: { stateDir?: string } = {},
): Promise<PreviewReport> {
  const counter = new PreviewCounter(definition, options.stateDir);
  const report: PreviewReport = {
    mode: definition.mode,
    rowsRead: 0,
    invalidRows: 0,
    invalidByReason: {},
    samplePayloads: [],
    clusters: { total: 0, withUser: 0, largest: [] },
    devicesPerUser: { average: 0, max: 0 },
    identityFailures: {},
    warnings: [],
    predictedClusters: [],
    counts: counter.counts,
  };
  const warnings = new Map<string, PreviewWarning>();
  const warn = (code: string, message: string, example: string | undefined, count = 1) => {
    const entry = warnings.get(code) ?? { code, count: 0, message, examples: [] };
    entry.count += count;
    if (example !== undefined && entry.examples.length < 3) entry.examples.push(example);
    warnings.set(code, entry);
  };
  const rowMapping = definition.mapping;
  if (rowMapping.type === 'lookup_table')
    throw new Error('a lookup table is previewed by previewLookupTable (lookup/preview.ts)');
  const anonymous = new Set<string>();
  const mapping = { mode: definition.mode, keyColumns: [definition.source.primary_key] };

  const { cursor, primary_key: primaryKey, null_cursor: nullCursor } = definition.source;
  // A cursor the window cannot use stops the preview as it would stop the sync, before any row.
  if (cursor !== undefined) await source.maxCursor();
  let previousKey: unknown;
  let readEverything = true;
  pages: for await (const page of source.pages({ pageSize: definition.page_size })) {
    if (page.duplicateKeys !== undefined)
      warn('duplicate_key', DUPLICATE_KEYS, undefined, page.duplicateKeys);
    for (const row of page.rows) {
      if (limit !== undefined && report.rowsRead >= limit) {
        readEverything = false;
        break pages;
      }
      report.rowsRead++;
      const key = `${primaryKey}=${String(row[primaryKey])}`;
      if (row[primaryKey] === previousKey && page.duplicateKeys !== undefined)
        warn('duplicate_key', DUPLICATE_KEYS, key, 0);
      previousKey = row[primaryKey];
      // Rows a NULL leaves without a place are warned about; the run's own rule refuses them.
      if (row[primaryKey] === null || row[primaryKey] === undefined)
        warn(
          'null_key',
          `rows whose primary key ${primaryKey} is NULL: a run reads them after the rest of its window and dead-letters them`,
          key,
        );
      else if (page.nullCursor === true && cursor !== undefined)
        warn('null_cursor', nullCursorMessage(cursor, nullCursor), key);
      const refused = nullRefusal(row, definition.source, page.nullCursor === true);
      if (refused !== undefined) {
        if (refused.code === 'null_cursor') counter.row(String(row[primaryKey]), undefined);
        report.invalidRows++;
        report.invalidByReason[refused.tally] = (report.invalidByReason[refused.tally] ?? 0) + 1;
        continue;
      }
      const mapped = mapWarehouseRow(row, rowMapping, mapping);
      counter.row(String(row[primaryKey]), mapped.ok ? mapped.payloads : undefined);
      if (!mapped.ok) {
        report.invalidRows++;
        for (const error of mapped.errors) {
          const reason = `${error.field}: ${error.message}`;
          report.invalidByReason[reason] = (report.invalidByReason[reason] ?? 0) + 1;
          if (/invalid IDs/.test(error.message)) {
            warn(
              'invalid_id',
              "IDs on Mixpanel's list of invalid IDs (they would merge unrelated people)",
              `${error.record}: ${error.field}`,
            );
          }
        }
        continue;
      }
      for (const warning of mapped.warnings) {
        if (warning.code === 'original_non_uuid_anon') {
          warn(
            'non_uuid_anonymous_id',
            'anonymous IDs that are not UUID v4: $identify fails for them (sent as $merge instead, or skipped)',
            `${warning.record}: ${warning.field}`,
          );
        }
      }
      const deviceColumn = 'device_id' in definition.mapping ? definition.mapping.device_id : undefined;
      if (deviceColumn !== undefined && typeof row[deviceColumn] === 'string')
        anonymous.add(row[deviceColumn]);
      for (const payload of mapped.payloads) {
        if (report.samplePayloads.length < 3) report.samplePayloads.push(payload);
        if (payload.endpoint !== 'import' && payload.endpoint !== 'track') continue;
        const props = payload.body.properties;
        if (payload.body.event === '$identify' && typeof props.$anon_id === 'string')
          anonymous.add(props.$anon_id);
        if (
          payload.body.event === '$merge' &&
          Array.isArray(props.$distinct_ids) &&
          typeof props.$distinct_ids[1] === 'string'
        ) {
          anonymous.add(props.$distinct_ids[1]);
        }
        const outcome = model.ingest(payload.body);
        if (outcome.status === 'accepted' && outcome.failureReason) {
          report.identityFailures[outcome.failureReason] =
            (report.identityFailures[outcome.failureReason] ?? 0) + 1;
          if (outcome.failureReason === 'errAnonDistinctIdAssignedAlready') {
            warn(
              'device_claimed_twice',
              'devices that more than one user tried to claim (first link wins; later claims fail)',
              `${outcome.ingestedDistinctId}`,
            );
          }
          if (outcome.failureReason === 'errManyIDs')
            warn('cluster_cap', 'merges refused at the 500-ID cap', outcome.ingestedDistinctId);
        }
      }
    }
  }

  const clusters = model.clusters();
  let users = 0;
  let devicesTotal = 0;
  for (const cluster of clusters) {
    const devices = cluster.members.filter((id) => isDevice(id, definition.mode, anonymous)).length;
    if (devices < cluster.members.length) {
      users++;
      devicesTotal += devices;
      report.devicesPerUser.max = Math.max(report.devicesPerUser.max, devices);
    }
    if (definition.mode === 'original' && cluster.members.length >= NEAR_CAP) {
      warn(
        'near_cap',
        `clusters with ${NEAR_CAP} or more IDs, near the 500-ID cap of Original ID Merge`,
        `${cluster.distinct_id} (${cluster.members.length})`,
      );
    }
  }
  report.clusters = {
    total: clusters.length,
    withUser: users,
    largest: clusters
      .map((c) => ({ distinct_id: c.distinct_id, size: c.members.length }))
      .sort((a, b) => b.size - a.size)
      .slice(0, 5),
  };
  report.devicesPerUser.average = users > 0 ? devicesTotal / users : 0;
  report.warnings = [...correctionWarnings(definition), ...warnings.values()];
  report.counts = counter.finish(readEverything);
  report.predictedClusters =
    clusters.length <= 50 ? clusters : clusters.filter((c) => c.members.length > 1).slice(0, 50);
  return report;
}

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  LIMITS,
  lookupTableAuth,
  replaceLookupTable,
  type DeadLetterSink,
  type LookupTableOptions,
  type MixpanelConfig,
} from '@idmerge/shared';
import type { LookupSyncDefinition } from '../definition.js';
import { windowFor } from '../map-page.js';
import type { WarehouseSource } from '../sources/source.js';
import type { StateStore } from '../state.js';
import { writeLookupCsv, type LookupCsv } from './table-csv.js';

/**
 * What a lookup-table run did: `replaced` (sent, Mixpanel took it), `unchanged` (the same CSV as
 * the last replace to the same table: nothing sent), `dry_run` (nothing sent), or, with nothing
 * replaced and the table keeping its rows: `too_large` (refused before sending), `empty` (no row to
 * send), `refused` (Mixpanel refused the content) or `failed` (credentials, rate limit, outage).
 */
export type LookupOutcome =
  'replaced' | 'unchanged' | 'dry_run' | 'too_large' | 'empty' | 'refused' | 'failed';

export interface LookupRunReport {
  tableId: string;
  outcome: LookupOutcome;
  csv: Omit<LookupCsv, 'sample'>;
  /** HTTP requests made (retries included); 0 when nothing was sent. */
  requests: number;
  /** Rows kept out and dead-lettered (NULL, empty or repeated keys, values that cannot be written). */
  deadLettered: number;
  /** Why nothing was replaced, when it was not. */
  reason?: string;
  elapsedMs: number;
}

/** Megabytes with one decimal, for messages. */
export const megabytes = (bytes: number) => `${(bytes / 1_000_000).toFixed(1)} MB`;

/** Why a CSV over the limit is not sent, and what to do. */
export function tooLargeReason(bytes: number): string {
  return (
    `the lookup table's CSV is ${megabytes(bytes)} (${bytes} bytes), over Mixpanel's limit of ` +
    `${megabytes(LIMITS.maxLookupTableBytes)} (${LIMITS.maxLookupTableBytes} bytes) uncompressed: nothing was sent and ` +
    'the table keeps its rows; list fewer columns in mapping.properties.include (long URLs and free text are ' +
    'the usual culprits), or keep fewer rows in the query'
  );
}

/** Where a replace goes: the same CSV sent elsewhere (another region, project or table) is a change. */
export function lookupTarget(config: MixpanelConfig, tableId: string): string {
  return `${config.apiHost} project ${lookupTableAuth(config).projectId} table ${tableId}`;
}

/**
 * One run of a lookup-table sync: read every row in key order, write the CSV to a file in the state
 * folder (streamed: memory does not grow with the table), refuse it when over 100 MB, compare its
 * hash with the last replace's, and when it changed replace the table with one `PUT`. The hash is
 * saved only after Mixpanel took the table: a failed replace leaves the old one, so the next run
 * sends again. `config` undefined: a dry run (nothing sent, no state written).
 */
export async function runLookupSync(
  definition: LookupSyncDefinition,
  source: WarehouseSource,
  store: StateStore,
  delivery: { config?: MixpanelConfig; deadLetter: DeadLetterSink; replace?: LookupTableOptions },
  options: { fullRefresh?: boolean } = {},
): Promise<LookupRunReport> {
  const started = Date.now();
  const tableId = definition.mapping.lookup_table_id;
  const { config, deadLetter } = delivery;
  // Credentials that cannot replace a lookup table stop the run before anything is read.
  const target = config === undefined ? undefined : lookupTarget(config, tableId);
  const state = store.load();
  const file = join(store.dir, 'lookup-table.csv.partial');
  rmSync(file, { force: true });
  let deadLettered = 0;
  try {
    const window = windowFor(definition, { pageSize: definition.page_size });
    const built = await writeLookupCsv(
      definition.mapping,
      source.pages(window),
      config === undefined ? undefined : file,
      async (problem) => {
        deadLettered++;
        await deadLetter.write({
          record: problem.row,
          stage: 'validation',
          reason: problem.reason,
          field: problem.field,
        });
      },
    );
    const { sample: _sample, ...csv } = built;
    const report = (outcome: LookupOutcome, extra: Partial<LookupRunReport> = {}): LookupRunReport => ({
      tableId,
      outcome,
      csv,
      requests: 0,
      deadLettered,
      elapsedMs: Date.now() - started,
      ...extra,
    });
    if (csv.overLimit) return report('too_large', { reason: tooLargeReason(csv.bytes) });
    if (csv.rows === 0)
      return report('empty', {
        reason:
          `no row to send (${csv.rowsRead} read): replacing the table with none would empty it, so nothing was sent ` +
          'and the table keeps its rows; check the query',
      });
    if (config === undefined || target === undefined) return report('dry_run');
    const last = state.lookupTable;
    if (!options.fullRefresh && last !== undefined && last.target === target && last.sha256 === csv.sha256)
      return report('unchanged');
    const outcome = await replaceLookupTable(config, { tableId, file, bytes: csv.bytes }, delivery.replace);
    if (!outcome.ok)
      return report(outcome.cause === 'refused' ? 'refused' : 'failed', {
        requests: outcome.requests,
        reason: outcome.reason,
      });
    state.lookupTable = {
      target,
      sha256: csv.sha256,
      rows: csv.rows,
      bytes: csv.bytes,
      replacedAt: new Date().toISOString(),
    };
    state.completedRuns++;
    store.save(state);
    return report('replaced', { requests: outcome.requests });
  } finally {
    rmSync(file, { force: true });
  }
}

import { LIMITS, lookupTableHeader, type MixpanelConfig } from '@idmerge/shared';
import type { LookupSyncDefinition } from '../definition.js';
import { windowFor } from '../map-page.js';
import type { WarehouseSource } from '../sources/source.js';
import type { SyncState } from '../state.js';
import { lookupTarget, tooLargeReason } from './run.js';
import { writeLookupCsv, type LookupProblemKind } from './table-csv.js';

export interface LookupPreviewReport {
  type: 'lookup_table';
  tableId: string;
  header: string[];
  rowsRead: number;
  /** Rows a run would send. */
  rows: number;
  bytes: number;
  limitBytes: number;
  /**
   * Against the last replace: `changed`, `unchanged` (a run sends nothing), `never replaced`
   * (no replace recorded in the state). Without a service account in the environment the target
   * (host, project) cannot be compared: the content and table ID are compared alone.
   */
  change: 'changed' | 'unchanged' | 'never replaced';
  /** A run would send the table (changed, within the limit, not empty). */
  wouldSend: boolean;
  problems: Record<LookupProblemKind, number>;
  /** A few problem rows: key and reason. */
  problemExamples: Array<{ kind: LookupProblemKind; key: string | null; reason: string }>;
  /** Why a run would send nothing (too large, empty), when so. */
  blocked?: string;
  sampleRows: Array<Array<string | null>>;
  sha256: string;
}

/**
 * What a lookup-table run would do, sending nothing: reads every row (the whole result makes the
 * table), builds the CSV in memory-bounded passes without writing it, and compares its hash with
 * the last replace recorded in the state.
 */
export async function previewLookupTable(
  definition: LookupSyncDefinition,
  source: WarehouseSource,
  state: SyncState,
  config?: MixpanelConfig,
): Promise<LookupPreviewReport> {
  const examples: LookupPreviewReport['problemExamples'] = [];
  const csv = await writeLookupCsv(
    definition.mapping,
    source.pages(windowFor(definition, { pageSize: definition.page_size })),
    undefined,
    async (problem) => {
      if (examples.length < 5)
        examples.push({ kind: problem.kind, key: problem.key, reason: problem.reason });
    },
  );
  const tableId = definition.mapping.lookup_table_id;
  const last = state.lookupTable;
  let target: string | undefined;
  try {
    target = config === undefined ? undefined : lookupTarget(config, tableId);
  } catch {
    target = undefined; // no service account: the content is compared alone
  }
  const sameTable = last !== undefined && last.target.endsWith(` table ${tableId}`);
  const change =
    last === undefined
      ? 'never replaced'
      : last.sha256 === csv.sha256 && (target === undefined ? sameTable : target === last.target)
        ? 'unchanged'
        : 'changed';
  const blocked = csv.overLimit
    ? tooLargeReason(csv.bytes)
    : csv.rows === 0
      ? 'no row to send: a run sends nothing and the table keeps its rows'
      : undefined;
  return {
    type: 'lookup_table',
    tableId,
    header: lookupTableHeader(definition.mapping),
    rowsRead: csv.rowsRead,
    rows: csv.rows,
    bytes: csv.bytes,
    limitBytes: LIMITS.maxLookupTableBytes,
    change,
    wouldSend: blocked === undefined && change !== 'unchanged',
    problems: csv.problems,
    problemExamples: examples,
    ...(blocked !== undefined ? { blocked } : {}),
    sampleRows: csv.sample,
    sha256: csv.sha256,
  };
}

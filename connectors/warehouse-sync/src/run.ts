import type { Sender } from '@idmerge/shared';
import { collectionOnHeapGrowth } from '@idmerge/shared/memory';
import type { SyncDefinition } from './definition.js';
import {
  pageMapper,
  windowFor,
  type MappedPage,
  type MappingSource,
  type PlainReadWindow,
} from './map-page.js';
import type { PagePosition, Row, WarehouseSource } from './sources/source.js';
import type { StateStore } from './state.js';
import { ProfileHashes } from './profile-hashes.js';
import { checkDeleteCap, DeletePlan, readSourceKeys, type DeleteReport } from './deletes.js';
import { sendDeletes } from './send-deletes.js';

export interface RunOptions {
  fullRefresh?: boolean;
  shard?: { index: number; count: number };
  /** Column hashed for `shard` (default: the primary key). */
  shardColumn?: string;
  onPage?: (progress: { rowsRead: number }) => void;
  /**
   * `delete_missing`: lift the delete cap for this run (`true`), or allow up to this many deletes
   * (the command's `--allow-deletes [n]`).
   */
  allowDeletes?: boolean | number;
}

export interface RunReport {
  rowsRead: number;
  invalid: number;
  invalidByReason: Record<string, number>;
  payloads: number;
  /** Profiles rows whose mapped values are the same as when they were last delivered: not sent again. */
  unchanged: number;
  /** Rows whose cursor is NULL (dead-lettered, or delivered with `null_cursor: deliver`). */
  nullCursor: number;
  /** Rows sharing their cursor and primary key with another row (all are read and sent). */
  duplicateKeys: number;
  resumed: boolean;
  window: { after?: string; upTo?: string };
  elapsedMs: number;
  rowsPerSecond: number;
  /**
   * Set when the run ended with rows not settled (not delivered for a reason that is not theirs:
   * credentials refused, an outage outlasting the retries): why. The checkpoint stays below the
   * first of them and the bound does not move, so the next run sends them and the rest.
   */
  incomplete?: string;
  /** `delete_missing`: what became of the keys synced before and no longer in the source. */
  deletes?: DeleteReport;
}

/**
 * Marks the record the sender keeps for a row (its key) with the page it was read in, so an
 * undelivered record tells which checkpoints it holds back. A symbol: the dead-letter file, which
 * writes the record as JSON, never sees it.
 */
const PAGE_OF = Symbol('page');
/** Marks the record kept for a `$delete` with the ID it deletes. */
const DELETE_OF = Symbol('delete');

function shardOf(definition: SyncDefinition, options: RunOptions): PlainReadWindow['shard'] {
  return options.shard && { ...options.shard, column: options.shardColumn ?? definition.source.primary_key };
}

function emptyDeletes(plan: DeletePlan): DeleteReport {
  return { sent: 0, accepted: 0, failed: 0, released: 0, unknownIds: plan.unknownIds };
}

const DELIVERY_HEAP_GROWTH_BYTES = 16 * 1024 * 1024;

/** Pages of `source` mapped for sending: mapped by the source itself, or here, as they are read. */
async function* mappedPages(
  definition: SyncDefinition,
  source: WarehouseSource | MappingSource,
  window: PlainReadWindow,
): AsyncGenerator<MappedPage> {
  if ('mappedPages' in source) {
    yield* source.mappedPages(window);
    return;
  }
  const map = pageMapper(definition);
  for await (const page of source.pages(windowFor(definition, window))) yield map(page);
}

/**
 * One run of a sync: freeze the upper bound, read the window (last bound − lookback, upper bound]
 * page by page, hand each page to the sender, wait for it to be delivered, and checkpoint. A run
 * that was killed resumes from its last checkpoint with the same frozen window.
 */
export async function runSync(
  definition: SyncDefinition,
  source: WarehouseSource | MappingSource,
  sender: Sender,
  store: StateStore,
  options: RunOptions = {},
): Promise<RunReport> {
  const started = Date.now();
  const state = store.load();
  const primaryKey = definition.source.primary_key;
  const profiles =
    definition.mapping.type === 'profiles' || definition.mapping.type === 'groups'
      ? new ProfileHashes(store.dir)
      : undefined;
  // Deletes are planned from a complete read of the source before anything is sent, so a run
  // over the cap sends nothing at all (the definition refuses delete_missing with a cursor: every
  // read is of the whole result).
  let plan: DeletePlan | undefined;
  if (definition.delete_missing && profiles) {
    const whole: PlainReadWindow = { pageSize: definition.page_size, shard: shardOf(definition, options) };
    plan = new DeletePlan(profiles, await readSourceKeys(mappedPages(definition, source, whole), primaryKey));
    checkDeleteCap(definition, plan.size, profiles.syncedCount, options.allowDeletes);
  }
  if (profiles && options.fullRefresh) {
    // Every profile is sent again; with deletes on, the synced keys stay, to be deleted when gone.
    if (plan) profiles.forgetHashes();
    else profiles.clear();
  }
  const resumed = state.inProgress !== undefined && !options.fullRefresh;
  const window =
    resumed && state.inProgress
      ? { after: state.inProgress.after, upTo: state.inProgress.upTo, position: state.inProgress.position }
      : {
          after: options.fullRefresh ? undefined : state.bound,
          upTo: definition.source.cursor ? await source.maxCursor() : undefined,
          position: undefined,
        };
  state.inProgress = { after: window.after, upTo: window.upTo, position: window.position };
  store.save(state);

  const report: RunReport = {
    rowsRead: 0,
    invalid: 0,
    invalidByReason: {},
    payloads: 0,
    unchanged: 0,
    nullCursor: 0,
    duplicateKeys: 0,
    resumed,
    window: { after: window.after, upTo: window.upTo },
    elapsedMs: 0,
    rowsPerSecond: 0,
  };
  const read: PlainReadWindow = {
    after: window.after,
    upTo: window.upTo,
    lookbackSeconds: window.after === undefined ? 0 : definition.lookback,
    from: window.position,
    pageSize: definition.page_size,
    shard: shardOf(definition, options),
  };
  // Settled rows are delivered, refused by Mixpanel, or dead-lettered as invalid. A row that failed
  // for another reason is not: the checkpoint never passes its page, and the run stops reading.
  let firstUnsettledPage = Number.POSITIVE_INFINITY;
  let incomplete: string | undefined;
  const failedDeletes = new Set<string>();
  const stopWatching = sender.onUndelivered((original, why) => {
    const deleteOf = (original as { [DELETE_OF]?: unknown } | undefined)?.[DELETE_OF];
    if (typeof deleteOf === 'string') {
      // A `$delete` not accepted: its keys stay in the state, and the next run sends it again.
      failedDeletes.add(deleteOf);
      if (why.cause === 'failed') incomplete ??= why.reason;
      return;
    }
    const key = (original as Row | undefined)?.[primaryKey];
    // A profile Mixpanel refused (or left uncertain) is forgotten, so the next run sends it again.
    if (profiles && key !== undefined) profiles.forget(String(key));
    if (why.cause !== 'failed') return;
    const page = (original as { [PAGE_OF]?: unknown } | undefined)?.[PAGE_OF];
    firstUnsettledPage = Math.min(firstUnsettledPage, typeof page === 'number' ? page : 0);
    incomplete ??= why.reason;
  });
  // Checkpoints follow delivery without holding up reading: after each page, the position and
  // the page's profile hashes are saved once every record handed in so far has settled, in page
  // order, while the next pages are already being read, mapped and sent.
  let checkpoints: Promise<void> = Promise.resolve();
  // Every settled page is checkpointed (a small file renamed into place: cheap next to a page's
  // delivery), so a killed run sends again little more than the requests it had in flight.
  let checkpointFailure: { error: unknown } | undefined;
  const checkpointAfterDelivery = (page: number, position: PagePosition | undefined, rowsRead: number) => {
    const mark = profiles?.mark();
    const settled = sender.settled();
    checkpoints = checkpoints
      .then(() => settled)
      .then(() => {
        if (page >= firstUnsettledPage) return;
        if (mark !== undefined) profiles?.commitThrough(mark);
        // A page without a position (its rows all share one (cursor, key)) moves no checkpoint.
        if (position !== undefined) {
          state.inProgress = { after: window.after, upTo: window.upTo, position };
          store.save(state);
        }
        options.onPage?.({ rowsRead });
      });
    checkpoints.catch((error: unknown) => (checkpointFailure ??= { error }));
  };
  // Records wait in batches for delivery long enough to reach V8's old space, which it lets grow
  // lazily by a hundred megabytes or more; collecting on growth keeps this thread's heap small.
  // Little is alive here, so a full collection is quick. The margin trades a little speed for
  // lower peak memory; a smaller one gains no memory, and the reading thread keeps the default
  // margin, where a smaller one only costs speed (the measurements: docs/benchmarks.md).
  const collectGarbage = collectionOnHeapGrowth(DELIVERY_HEAP_GROWTH_BYTES);
  let pageNumber = 0;
  let readFailure: { error: unknown } | undefined;
  try {
    for await (const page of mappedPages(definition, source, read)) {
      if (checkpointFailure !== undefined) throw checkpointFailure.error;
      // Everything read from here on would be sent again by the next run: stop reading.
      if (incomplete !== undefined) break;
      collectGarbage();
      report.nullCursor += page.nullCursor ?? 0;
      report.duplicateKeys += page.duplicateKeys ?? 0;
      const number = pageNumber++;
      // Rows that came back since the plan's read are not deleted.
      plan?.keep(page, primaryKey);
      for (const row of page.rows) {
        report.rowsRead++;
        if (row.kind === 'invalid') {
          report.invalid++;
          report.invalidByReason[row.tally] = (report.invalidByReason[row.tally] ?? 0) + 1;
          await sender.reject(row.row, row.reason, row.field);
          continue;
        }
        if (row.hash !== undefined && profiles) {
          const key = String(row.key);
          if (profiles.unchanged(key, row.hash, row.id)) {
            report.unchanged++;
            continue;
          }
          profiles.set(key, row.hash, row.id);
        }
        // What the sender keeps until the payload is delivered, for its dead-letter entry: the row's
        // key, not the row. The row stays in the warehouse; holding whole rows for every record in
        // flight (tens of thousands) was most of the sync's memory.
        const original = { [primaryKey]: row.key, [PAGE_OF]: number };
        for (const json of row.events) {
          report.payloads++;
          const wait = sender.sendImportJson(json, original);
          if (wait !== undefined) await wait;
        }
        for (const payload of row.payloads) {
          report.payloads++;
          const wait = sender.send(payload, original);
          if (wait !== undefined) await wait;
        }
      }
      checkpointAfterDelivery(number, page.last, report.rowsRead);
    }
  } catch (error) {
    readFailure = { error };
  }
  // Whether the read was complete; a `$delete` not delivered (below) does not undo that.
  let readIncomplete: string | undefined;
  try {
    // What was handed in is delivered either way; the checkpoints then reach the last settled page.
    await sender.drain();
    await checkpoints;
    if (checkpointFailure !== undefined) throw checkpointFailure.error;
    // A failed read, or rows not settled: the last checkpoint is that of the last page below which
    // everything settled, and the next run resumes right there. Neither deletes anything.
    if (readFailure !== undefined) throw readFailure.error;
    readIncomplete = incomplete;
    if (plan && profiles) {
      report.deletes =
        readIncomplete === undefined
          ? await sendDeletes(definition, plan, profiles, sender, failedDeletes, DELETE_OF)
          : { ...emptyDeletes(plan), skipped: `the run did not finish (${readIncomplete})` };
    }
  } finally {
    stopWatching();
  }
  if (incomplete !== undefined) report.incomplete = incomplete;
  if (readIncomplete !== undefined) profiles?.commit();
  else {
    profiles?.compact();
    state.bound = window.upTo ?? state.bound;
    state.inProgress = undefined;
    state.completedRuns++;
    store.save(state);
  }
  report.elapsedMs = Date.now() - started;
  report.rowsPerSecond = report.elapsedMs > 0 ? (report.rowsRead * 1000) / report.elapsedMs : 0;
  return report;
}

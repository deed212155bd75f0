import type { Payload } from '@idmerge/shared';
import type { SyncDefinition } from './definition.js';
import type { MappedPage } from './map-page.js';
import type { ProfileHashes } from './profile-hashes.js';

/**
 * The cap on one run's deletes when `delete_missing` is on and `max_deletes` is not set: 10% of the
 * keys synced before, and never fewer than 10 (so a small table is not stopped by every delete).
 */
export const DEFAULT_MAX_DELETES = { percent: 10, atLeast: 10 } as const;

export interface DeleteReport {
  /** `$delete` updates sent (one per Mixpanel ID), and how many of them were accepted. */
  sent: number;
  accepted: number;
  /** Refused, or not delivered: the keys stay in the state and the next run deletes them again. */
  failed: number;
  /** Absent keys another row still maps to the same ID: they leave the state, nothing is deleted. */
  released: number;
  /** Absent keys written by an older version without their ID: not deleted (docs/warehouse-sync.md). */
  unknownIds: number;
  /** Set when no delete was sent because the run did not finish: why. */
  skipped?: string;
}

/** What one complete read of the source holds: every key read (valid or not), every ID mapped to. */
export interface SourceKeys {
  keys: Set<string>;
  ids: Set<string>;
}

/** Adds a page's rows to what the source holds. */
export function addPageKeys(present: SourceKeys, page: MappedPage, primaryKey: string): void {
  for (const row of page.rows) {
    if (row.kind === 'send') {
      present.keys.add(String(row.key));
      if (row.id !== undefined) present.ids.add(row.id);
    } else present.keys.add(String(row.row[primaryKey]));
  }
}

/** Reads every page for its keys and IDs only: nothing is sent, and nothing is kept of the rows. */
export async function readSourceKeys(
  pages: AsyncIterable<MappedPage>,
  primaryKey: string,
): Promise<SourceKeys> {
  const present: SourceKeys = { keys: new Set(), ids: new Set() };
  for await (const page of pages) addPageKeys(present, page, primaryKey);
  return present;
}

/**
 * The deletes a run sends: each Mixpanel ID that synced keys were sent as, no longer returned by
 * the source under any key, with the keys that leave the state once its `$delete` is accepted.
 */
export class DeletePlan {
  /** ID → the synced keys (absent from the source) that were sent as it. */
  readonly byId = new Map<string, string[]>();
  private readonly idOfKey = new Map<string, string>();
  /** Absent keys whose ID another row still maps to: they leave the state with nothing to delete. */
  readonly released: string[] = [];
  /** Absent keys written by an older version, whose ID is not known: never deleted (see docs). */
  unknownIds = 0;

  constructor(hashes: ProfileHashes, present: SourceKeys) {
    for (const [key, id] of hashes.syncedKeys()) {
      if (present.keys.has(key)) continue;
      if (id === null) this.unknownIds++;
      else if (present.ids.has(id)) this.released.push(key);
      else {
        this.idOfKey.set(key, id);
        const keys = this.byId.get(id);
        if (keys === undefined) this.byId.set(id, [key]);
        else keys.push(key);
      }
    }
  }

  get size(): number {
    return this.byId.size;
  }

  /**
   * A page the sync itself read after the plan was made: a key (or ID) that came back meanwhile is
   * not deleted.
   */
  keep(page: MappedPage, primaryKey: string): void {
    if (this.byId.size === 0) return;
    for (const row of page.rows) {
      const key = String(row.kind === 'send' ? row.key : row.row[primaryKey]);
      const planned = this.idOfKey.get(key);
      if (planned !== undefined) this.release(planned, key);
      if (row.kind === 'send' && row.id !== undefined && this.byId.has(row.id)) this.release(row.id);
    }
  }

  /** Takes `id` out of the plan: its keys leave the state with nothing deleted, but `back` stays. */
  private release(id: string, back?: string): void {
    for (const key of this.byId.get(id) ?? []) {
      this.idOfKey.delete(key);
      if (key !== back) this.released.push(key);
    }
    this.byId.delete(id);
  }
}

/** The most deletes one run of `definition` may send, given how many keys were synced before. */
export function deleteCap(definition: SyncDefinition, syncedBefore: number): number {
  const configured = definition.max_deletes;
  if (typeof configured === 'number') return configured;
  if (configured !== undefined) return Math.floor((Number.parseFloat(configured) * syncedBefore) / 100);
  return Math.max(
    DEFAULT_MAX_DELETES.atLeast,
    Math.floor((DEFAULT_MAX_DELETES.percent * syncedBefore) / 100),
  );
}

/** The cap as people read it: `500`, `5% of 1200 synced keys = 60`. */
export function describeCap(definition: SyncDefinition, syncedBefore: number): string {
  const cap = deleteCap(definition, syncedBefore);
  const configured = definition.max_deletes;
  if (typeof configured === 'number') return `max_deletes: ${cap}`;
  const percent = configured ?? `${DEFAULT_MAX_DELETES.percent}%`;
  const origin = configured === undefined ? 'the default cap, ' : 'max_deletes: ';
  return (
    `${origin}${percent} of the ${syncedBefore} keys synced before = ${cap}` +
    (configured === undefined ? ` (at least ${DEFAULT_MAX_DELETES.atLeast})` : '')
  );
}

export class DeleteCapError extends Error {
  constructor(
    readonly deletes: number,
    readonly cap: number,
    message: string,
  ) {
    super(message);
    this.name = 'DeleteCapError';
  }
}

/**
 * Throws when `deletes` is over the cap (`allow`: a one-off `--allow-deletes`, with no count: no
 * cap; with one: that cap). Called before anything of the run is sent.
 */
export function checkDeleteCap(
  definition: SyncDefinition,
  deletes: number,
  syncedBefore: number,
  allow?: boolean | number,
): void {
  if (allow === true) return;
  const cap = typeof allow === 'number' ? allow : deleteCap(definition, syncedBefore);
  if (deletes <= cap) return;
  const what = definition.mapping.type === 'groups' ? 'group profiles' : 'user profiles';
  throw new DeleteCapError(
    deletes,
    cap,
    `sync ${definition.name}: this run would delete ${deletes} ${what} (keys synced before and no longer ` +
      `returned by the source), more than ${typeof allow === 'number' ? `--allow-deletes ${cap}` : describeCap(definition, syncedBefore)}; ` +
      'nothing was sent. Check the source (an empty or partly loaded table, a changed query); if the deletes are ' +
      `meant, run once with --allow-deletes ${deletes}, or raise max_deletes in the definition`,
  );
}

/** The `$delete` of one ID: `/engage` for a user profile, `/groups` for a group profile. */
export function deletePayload(definition: SyncDefinition, id: string): Payload {
  if (definition.mapping.type === 'groups')
    return {
      endpoint: 'groups',
      body: { $group_key: definition.mapping.group_key, $group_id: id, $delete: '' },
    };
  return { endpoint: 'engage', body: { $distinct_id: id, $delete: '' } };
}

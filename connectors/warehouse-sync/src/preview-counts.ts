import type { Payload } from '@idmerge/shared';
import type { SyncDefinition } from './definition.js';
import { checkDeleteCap, DeleteCapError, DeletePlan, type SourceKeys } from './deletes.js';
import { profileFingerprint, profileId } from './map-page.js';
import { ProfileHashes } from './profile-hashes.js';

/**
 * What a run would send, counted as a dry run of Census or Hightouch shows it. Profiles and groups
 * are compared with the sync's state: `created` (a key never synced), `updated` (synced, mapped
 * differently now), `unchanged` (not sent again) and, with `delete_missing`, `deleted`. Events and
 * identity links are not compared with anything Mixpanel holds: `created` counts the rows read.
 */
export interface PreviewCounts {
  created: number;
  updated: number;
  unchanged: number;
  /** With `delete_missing`, after a read of every row (none with `--limit`). */
  deleted?: number;
  /** Why `deleted` or the comparison is missing, or what the counts cover. */
  notes: string[];
  /** Set when the delete cap would stop the run before it sends anything: the run's message. */
  deleteCapStops?: string;
}

/** Counts rows as the preview reads them; `finish` adds the deletes once the read is done. */
export class PreviewCounter {
  readonly counts: PreviewCounts = { created: 0, updated: 0, unchanged: 0, notes: [] };
  private readonly hashes: ProfileHashes | undefined;
  private readonly present: SourceKeys = { keys: new Set(), ids: new Set() };

  constructor(
    private readonly definition: SyncDefinition,
    stateDir: string | undefined,
  ) {
    const profiles = definition.mapping.type === 'profiles' || definition.mapping.type === 'groups';
    if (profiles && stateDir !== undefined) this.hashes = new ProfileHashes(stateDir);
    else if (profiles) this.counts.notes.push('no sync state given: every profile counts as created');
    else
      this.counts.notes.push(
        'events are not compared with Mixpanel: created counts every valid row read; a run from the ' +
          'sync state reads only the rows after its last bound (less the lookback)',
      );
  }

  /** A row read, valid (with its payloads) or not (its key only). */
  row(key: string, payloads: readonly Payload[] | undefined): void {
    this.present.keys.add(key);
    if (payloads === undefined) return;
    const id = profileId(payloads).id;
    if (id !== undefined) this.present.ids.add(id);
    if (this.hashes === undefined) {
      this.counts.created++;
      return;
    }
    const hash = profileFingerprint(payloads);
    if (this.hashes.unchanged(key, hash)) this.counts.unchanged++;
    else if (this.hashes.isSynced(key)) this.counts.updated++;
    else this.counts.created++;
  }

  /** After the read: deletes, when every row was read. */
  finish(readEverything: boolean): PreviewCounts {
    if (!this.definition.delete_missing || this.hashes === undefined) return this.counts;
    if (!readEverything) {
      this.counts.notes.push('deletes are not counted: --limit stopped the read before every row');
      return this.counts;
    }
    const plan = new DeletePlan(this.hashes, this.present);
    this.counts.deleted = plan.size;
    if (plan.unknownIds > 0)
      this.counts.notes.push(
        `${plan.unknownIds} keys gone from the source were synced by an older version without their ID: not deleted`,
      );
    try {
      checkDeleteCap(this.definition, plan.size, this.hashes.syncedCount);
    } catch (error) {
      if (!(error instanceof DeleteCapError)) throw error;
      this.counts.deleteCapStops = error.message;
    }
    return this.counts;
  }
}

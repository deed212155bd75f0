import type { IdMergeMode } from '../payload/index.js';
import { eventViolations, isMixpanelEvent, type Violation } from '../validation/index.js';
import { DedupSet } from './dedup-set.js';
import { GrowableInt32 } from './growable.js';
import { IdTable } from './id-table.js';
import { RecentClock } from './recent-clock.js';
import type {
  Cluster,
  FailureReason,
  IdentityModel,
  IdentityModelOptions,
  IdentityStats,
  IngestOptions,
  IngestOutcome,
} from './types.js';
import { UnionFind } from './union-find.js';

/** What one API's rules decide for one accepted event. */
export interface IdentityStep {
  failureReason?: FailureReason;
}

/** The step of nearly every event, shared so that the hot path allocates no step object. */
export const NO_FAILURE: IdentityStep = Object.freeze({});

/**
 * The ingestion flow both APIs share: validate, drop `$ignore`, find where the event is stored,
 * deduplicate, record the event, then let the API's rules link IDs. Subclasses hold the rules.
 */
export abstract class BaseIdentityModel implements IdentityModel {
  abstract readonly mode: IdMergeMode;
  protected readonly ids = new IdTable();
  protected readonly sets = new UnionFind();
  private readonly dedup = new DedupSet();
  private readonly storedUnder = new GrowableInt32(1 << 16);
  private eventCount = 0;
  private duplicates = 0;
  private ignored = 0;
  private rejected = 0;
  private readonly validate: boolean;
  /** A clock the caller gave: read for every event, exactly as given. */
  private readonly nowMs: (() => number) | undefined;
  /** Otherwise the system clock, read about once per thousand events. */
  private readonly systemClock = new RecentClock();

  constructor(options: IdentityModelOptions = {}) {
    this.validate = options.validate ?? true;
    this.nowMs = options.nowMs;
  }

  /**
   * Set by every storageIndex call: the name of the ID it returned, built from the event's own
   * strings. Reading the name back from the table instead would cost cache misses on every event.
   */
  protected storedName = '';

  /**
   * The interned ID the event is stored under when it arrives (may be '' for an empty distinct_id);
   * also sets `storedName`.
   */
  protected abstract storageIndex(name: string, props: Record<string, unknown>): number;

  /** Applies the API's identity rules for an accepted, stored, non-duplicate event. */
  protected abstract applyIdentity(
    name: string,
    props: Record<string, unknown>,
    storedId: string,
    storedIndex: number,
  ): IdentityStep;

  ingest(event: unknown, options?: IngestOptions): IngestOutcome {
    const strict = options?.strict ?? true;
    if (this.validate) {
      let violations: Violation[] | undefined;
      if (this.nowMs !== undefined) {
        violations = eventViolations(event, this.mode, this.nowMs(), strict);
      } else {
        violations = eventViolations(event, this.mode, this.systemClock.recent(), strict);
        if (violations !== undefined && this.systemClock.refresh()) {
          violations = eventViolations(event, this.mode, this.systemClock.recent(), strict);
        }
      }
      if (violations !== undefined) {
        this.rejected++;
        return { status: 'rejected', violations };
      }
    }
    if (!isMixpanelEvent(event)) {
      this.rejected++;
      return { status: 'rejected', violations: [{ field: '', message: 'not an event {event, properties}' }] };
    }
    const props = event.properties;
    if (
      props.$ignore !== undefined &&
      props.$ignore !== null &&
      props.$ignore !== false &&
      props.$ignore !== 0 &&
      props.$ignore !== ''
    ) {
      this.ignored++;
      return { status: 'ignored' };
    }
    const storedIndex = this.storageIndex(event.event, props);
    const storedId = this.storedName;
    const time = typeof props.time === 'number' ? props.time : Number.NaN;
    const insertId = typeof props.$insert_id === 'string' ? props.$insert_id : '';
    // Not strict, an event without `$insert_id` has no deduplication key: it is never a duplicate.
    const keyless = !strict && insertId === '';
    if (!keyless && !this.dedup.add(event.event, storedIndex, time, insertId)) {
      this.duplicates++;
      return { status: 'duplicate', ingestedDistinctId: storedId };
    }
    if (storedId !== '') this.sets.add(storedIndex);
    const eventIndex = this.eventCount++;
    this.storedUnder.set(eventIndex, storedIndex);
    const step = this.applyIdentity(event.event, props, storedId, storedIndex);
    return step.failureReason === undefined
      ? { status: 'accepted', eventIndex, ingestedDistinctId: storedId }
      : {
          status: 'accepted',
          eventIndex,
          ingestedDistinctId: storedId,
          failureReason: step.failureReason,
          failureDescription: FAILURE_DESCRIPTIONS[step.failureReason],
        };
  }

  ingestMany(events: Iterable<unknown>): IngestOutcome[] {
    const outcomes: IngestOutcome[] = [];
    for (const event of events) outcomes.push(this.ingest(event));
    return outcomes;
  }

  private checkEventIndex(eventIndex: number): number {
    if (!Number.isInteger(eventIndex) || eventIndex < 0 || eventIndex >= this.eventCount) {
      throw new RangeError(`no stored event with index ${eventIndex} (the model holds ${this.eventCount})`);
    }
    return this.storedUnder.get(eventIndex);
  }

  ingestedDistinctId(eventIndex: number): string {
    return this.ids.name(this.checkEventIndex(eventIndex));
  }

  currentDistinctId(eventIndex: number): string {
    const stored = this.checkEventIndex(eventIndex);
    if (!this.sets.has(stored)) return this.ids.name(stored);
    return this.ids.name(this.sets.canonicalOf(stored));
  }

  canonicalOf(id: string): string | undefined {
    const index = this.ids.lookup(id);
    if (index === undefined || !this.sets.has(index)) return undefined;
    return this.ids.name(this.sets.canonicalOf(index));
  }

  clusterSizeOf(id: string): number {
    const index = this.ids.lookup(id);
    return index === undefined || !this.sets.has(index) ? 0 : this.sets.sizeOf(index);
  }

  /** Size of the cluster an ID is in, counting an unknown ID as a cluster of one (the 500 cap rule). */
  protected sizeForCap(index: number | undefined): number {
    return index === undefined || !this.sets.has(index) ? 1 : this.sets.sizeOf(index);
  }

  clusters(): Cluster[] {
    const byRoot = new Map<number, string[]>();
    for (let index = 0; index < this.ids.size; index++) {
      if (!this.sets.has(index)) continue;
      const root = this.sets.find(index);
      let members = byRoot.get(root);
      if (members === undefined) byRoot.set(root, (members = []));
      members.push(this.ids.name(index));
    }
    const clusters: Cluster[] = [];
    for (const [root, members] of byRoot) {
      clusters.push({
        distinct_id: this.ids.name(this.sets.canonicalOf(root)),
        members: members.sort(compareIds),
      });
    }
    return clusters.sort((a, b) => compareIds(a.distinct_id, b.distinct_id));
  }

  stats(): IdentityStats {
    return {
      events: this.eventCount,
      duplicates: this.duplicates,
      ignored: this.ignored,
      rejected: this.rejected,
      ids: this.sets.memberCount,
      clusters: this.sets.setCount,
    };
  }
}

/** Sort order of the conformance cases: plain code-unit order, the same on every machine. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export const FAILURE_DESCRIPTIONS: Record<FailureReason, string> = {
  errAnonDistinctIdAssignedAlready: 'the anonymous ID is already merged with another identified ID',
  errSameIDs: 'the anonymous ID and the identified ID are the same',
  errAnonDistinctIdNonGUIDForm: 'the anonymous ID is not a UUID v4, so $identify cannot merge it',
  errManyIDs: 'the merged cluster would hold more than 500 IDs',
  errAliasAlreadyExists: 'the alias has already been used',
};

import { identifyParties, isAnonUuidForm, usableId } from '../validation/index.js';
import { BaseIdentityModel, NO_FAILURE, type IdentityStep } from './model.js';
import type { FailureReason } from './types.js';

/** Per-ID marks (not per cluster): the ID was merged as `$anon_id`, or used as an alias. */
const MERGED_AS_ANON = 1;
const USED_AS_ALIAS = 2;

/** A cluster may hold at most this many IDs; a merge that would make it larger fails. */
export const MAX_CLUSTER_IDS = 500;

/** The ID a field names ('' for none), by the one usable-ID rule. */
function text(value: unknown): string {
  return usableId(value) ?? '';
}

/**
 * Original ID Merge: clusters are formed only by `$identify`,
 * `$create_alias` and `$merge`; every event keeps the distinct_id it was sent with.
 */
export class OriginalIdentityModel extends BaseIdentityModel {
  readonly mode = 'original' as const;
  private readonly marks = new Map<number, number>();

  protected storageIndex(name: string, props: Record<string, unknown>): number {
    this.storedName = this.storageId(name, props);
    return this.ids.intern(this.storedName);
  }

  private storageId(name: string, props: Record<string, unknown>): string {
    const sent = usableId(props.distinct_id);
    if (sent !== undefined) return sent;
    if (name === '$identify') return text(identifyParties(props).identified);
    if (name === '$merge' && Array.isArray(props.$distinct_ids)) return text(props.$distinct_ids[0]);
    return '';
  }

  protected applyIdentity(name: string, props: Record<string, unknown>): IdentityStep {
    switch (name) {
      case '$identify': {
        const parties = identifyParties(props);
        return this.identify(text(parties.identified), text(parties.anon));
      }
      case '$create_alias':
        return this.createAlias(text(props.distinct_id), text(props.alias));
      case '$merge': {
        const ids = Array.isArray(props.$distinct_ids) ? props.$distinct_ids : [];
        return this.merge(text(ids[0]), text(ids[1]));
      }
      default:
        return NO_FAILURE;
    }
  }

  private identify(identified: string, anon: string): IdentityStep {
    if (anon === identified) return failed('errSameIDs');
    if (!isAnonUuidForm(anon)) return failed('errAnonDistinctIdNonGUIDForm');
    const anonIndex = this.ids.lookup(anon);
    if (anonIndex !== undefined && this.hasMark(anonIndex, MERGED_AS_ANON)) {
      return failed('errAnonDistinctIdAssignedAlready');
    }
    const step = this.join(identified, anon);
    if (step.failureReason === undefined) this.mark(this.ids.intern(anon), MERGED_AS_ANON);
    return step;
  }

  private createAlias(distinctId: string, alias: string): IdentityStep {
    const aliasIndex = this.ids.lookup(alias);
    if (aliasIndex !== undefined && this.hasMark(aliasIndex, USED_AS_ALIAS))
      return failed('errAliasAlreadyExists');
    const step = this.join(distinctId, alias);
    if (step.failureReason === undefined) this.mark(this.ids.intern(alias), USED_AS_ALIAS);
    return step;
  }

  private merge(first: string, second: string): IdentityStep {
    return this.join(first, second);
  }

  /**
   * Merges the clusters of `keep` (the identified side, whose canonical ID the result keeps) and
   * `other`, unless the result would exceed the cap. IDs only join the model when this succeeds.
   */
  private join(keep: string, other: string): IdentityStep {
    const keepIndex = this.ids.lookup(keep);
    const otherIndex = this.ids.lookup(other);
    const together =
      keepIndex !== undefined &&
      otherIndex !== undefined &&
      this.sets.has(keepIndex) &&
      this.sets.has(otherIndex) &&
      this.sets.find(keepIndex) === this.sets.find(otherIndex);
    if (!together && this.sizeForCap(keepIndex) + this.sizeForCap(otherIndex) > MAX_CLUSTER_IDS) {
      return failed('errManyIDs');
    }
    const a = this.ids.intern(keep);
    const b = this.ids.intern(other);
    this.sets.add(a);
    this.sets.add(b);
    this.sets.union(a, b, a);
    return NO_FAILURE;
  }

  private hasMark(index: number, mark: number): boolean {
    return ((this.marks.get(index) ?? 0) & mark) !== 0;
  }

  private mark(index: number, mark: number): void {
    this.marks.set(index, (this.marks.get(index) ?? 0) | mark);
  }
}

function failed(failureReason: FailureReason): IdentityStep {
  return { failureReason };
}

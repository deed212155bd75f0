import { BaseIdentityModel, type IdentityStep } from './model.js';

export const DEVICE_PREFIX = '$device:';

/** The cluster holds a `$user_id` (flag kept on the cluster's root). */
const HAS_USER = 1;

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Simplified ID Merge (../shared/spec/id-merge.md): `$device_id`/`$user_id` on ordinary events;
 * the first event with both links the device to the user; first link wins; a cluster holds one
 * user ID. Identity events ($identify, $create_alias, $merge) create no links.
 */
export class SimplifiedIdentityModel extends BaseIdentityModel {
  readonly mode = 'simplified' as const;

  protected storageId(_name: string, props: Record<string, unknown>): string {
    const user = nonEmptyString(props.$user_id);
    if (user !== undefined) return user;
    const device = nonEmptyString(props.$device_id);
    if (device !== undefined) return DEVICE_PREFIX + device;
    return typeof props.distinct_id === 'string' ? props.distinct_id : '';
  }

  protected applyIdentity(_name: string, props: Record<string, unknown>, storedId: string): IdentityStep {
    if (storedId === '') return {};
    const user = nonEmptyString(props.$user_id);
    const device = nonEmptyString(props.$device_id);
    if (user === undefined) {
      // Stored under a device, or under a distinct_id: `$device:…` names a device, anything else a user.
      if (device === undefined && !storedId.startsWith(DEVICE_PREFIX)) this.markUser(storedId);
      return {};
    }
    const userIndex = this.markUser(user);
    if (device === undefined) return {};

    const deviceIndex = this.ids.intern(DEVICE_PREFIX + device);
    this.sets.add(deviceIndex);
    if (this.sets.find(deviceIndex) === this.sets.find(userIndex)) return {};
    if ((this.sets.flags(deviceIndex) & HAS_USER) !== 0) {
      return { failureReason: 'errAnonDistinctIdAssignedAlready' };
    }
    this.sets.union(deviceIndex, userIndex, userIndex);
    return {};
  }

  private markUser(user: string): number {
    const index = this.ids.intern(user);
    this.sets.add(index);
    this.sets.setFlags(index, HAS_USER);
    return index;
  }
}

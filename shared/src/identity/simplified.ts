import { usableId } from '../validation/index.js';
import { DEVICE_PREFIX } from './device-prefix.js';
import { BaseIdentityModel, NO_FAILURE, type IdentityStep } from './model.js';

export { DEVICE_PREFIX };

/** The cluster holds a `$user_id` (flag kept on the cluster's root). */
const HAS_USER = 1;

/**
 * Simplified ID Merge: `$device_id`/`$user_id` on ordinary events;
 * the first event with both links the device to the user; first link wins; a cluster holds one
 * user ID. Identity events ($identify, $create_alias, $merge) create no links.
 */
export class SimplifiedIdentityModel extends BaseIdentityModel {
  readonly mode = 'simplified' as const;

  protected storageIndex(_name: string, props: Record<string, unknown>): number {
    const user = usableId(props.$user_id);
    if (user !== undefined) {
      this.storedName = user;
      return this.ids.intern(user);
    }
    const device = usableId(props.$device_id);
    if (device !== undefined) {
      this.storedName = DEVICE_PREFIX + device;
      return this.ids.internDevice(device);
    }
    // A blank distinct_id names nobody, like an empty one: stored under '' (no user analysis).
    const sent = usableId(props.distinct_id) ?? '';
    this.storedName = sent;
    return this.ids.intern(sent);
  }

  protected applyIdentity(
    _name: string,
    props: Record<string, unknown>,
    storedId: string,
    storedIndex: number,
  ): IdentityStep {
    if (storedId === '') return NO_FAILURE;
    const user = usableId(props.$user_id);
    const device = usableId(props.$device_id);
    if (user === undefined) {
      // Stored under a device, or under a distinct_id: `$device:…` names a device, anything else a user.
      if (device === undefined && !storedId.startsWith(DEVICE_PREFIX))
        this.sets.setFlags(storedIndex, HAS_USER);
      return NO_FAILURE;
    }
    // Stored under the user: storedIndex is the user's.
    const userIndex = storedIndex;
    this.sets.setFlags(userIndex, HAS_USER);
    if (device === undefined) return NO_FAILURE;

    const deviceIndex = this.ids.internDevice(device);
    this.sets.add(deviceIndex);
    if (this.sets.find(deviceIndex) === this.sets.find(userIndex)) return NO_FAILURE;
    if ((this.sets.flags(deviceIndex) & HAS_USER) !== 0) {
      return { failureReason: 'errAnonDistinctIdAssignedAlready' };
    }
    this.sets.union(deviceIndex, userIndex, userIndex);
    return NO_FAILURE;
  }
}

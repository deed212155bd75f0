import { DEVICE_PREFIX } from './device-prefix.js';
import { StringInterner } from './string-interner.js';

/** Namespaces of the interner: users and distinct_ids, and Simplified ID Merge devices. */
const ID = 0;
const DEVICE = 1;

/**
 * Interns ID strings to dense integers so the rest of the model works on typed arrays. Devices of
 * Simplified ID Merge are kept by their raw ID in a namespace of their own, so the hot path never
 * builds a `$device:<id>` string to look one up. `lookup` never creates an ID (a failed identity
 * step must leave unknown IDs unknown).
 */
export class IdTable {
  private readonly table = new StringInterner(1 << 16);

  get size(): number {
    return this.table.size;
  }

  lookup(name: string): number | undefined {
    const index = name.startsWith(DEVICE_PREFIX)
      ? this.table.find(name.slice(DEVICE_PREFIX.length), DEVICE)
      : this.table.find(name, ID);
    return index === -1 ? undefined : index;
  }

  /** The index of a user or distinct_id, created when new. */
  intern(name: string): number {
    if (name.startsWith(DEVICE_PREFIX)) return this.internDevice(name.slice(DEVICE_PREFIX.length));
    return this.table.intern(name, ID);
  }

  /** The index of the device `$device:<deviceId>`, created when new. */
  internDevice(deviceId: string): number {
    return this.table.intern(deviceId, DEVICE);
  }

  name(index: number): string {
    const raw = this.table.key(index);
    if (raw === undefined) throw new RangeError(`no ID with index ${index}`);
    return this.table.kind(index) === DEVICE ? DEVICE_PREFIX + raw : raw;
  }
}

import { DEVICE_PREFIX } from './device-prefix.js';
import { GrowableInt32 } from './growable.js';

/**
 * Interns ID strings to dense integers so the rest of the model works on typed arrays. Devices of
 * Simplified ID Merge are kept by their raw ID in a table of their own, so the hot path never
 * builds a `$device:<id>` string to look one up. `lookup` never creates an ID (a failed identity
 * step must leave unknown IDs unknown).
 */
export class IdTable {
  private readonly ids = new Map<string, number>();
  private readonly devices = new Map<string, number>();
  private readonly raw: string[] = [];
  private readonly isDevice = new GrowableInt32(1 << 16);

  get size(): number {
    return this.raw.length;
  }

  lookup(name: string): number | undefined {
    return name.startsWith(DEVICE_PREFIX)
      ? this.devices.get(name.slice(DEVICE_PREFIX.length))
      : this.ids.get(name);
  }

  /** The index of a user or distinct_id, created when new. */
  intern(name: string): number {
    if (name.startsWith(DEVICE_PREFIX)) return this.internDevice(name.slice(DEVICE_PREFIX.length));
    return this.add(this.ids, name, false);
  }

  /** The index of the device `$device:<deviceId>`, created when new. */
  internDevice(deviceId: string): number {
    return this.add(this.devices, deviceId, true);
  }

  private add(table: Map<string, number>, key: string, device: boolean): number {
    let index = table.get(key);
    if (index === undefined) {
      index = this.raw.length;
      this.raw.push(key);
      this.isDevice.set(index, device ? 1 : 0);
      table.set(key, index);
    }
    return index;
  }

  name(index: number): string {
    const raw = this.raw[index];
    if (raw === undefined) throw new RangeError(`no ID with index ${index}`);
    return this.isDevice.get(index) === 1 ? DEVICE_PREFIX + raw : raw;
  }
}

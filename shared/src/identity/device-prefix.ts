/** How Simplified ID Merge names a device in distinct_ids: `$device:<device id>`. */
export const DEVICE_PREFIX = '$device:';

import type { SegmentCallFields } from '@idmerge/shared/mapping';

/**
 * The Segment call an action's builder wrote, without the fields its payload left empty (null or
 * absent): the shared mapping layer reads it exactly as the call Segment received.
 */
export function segmentCall(fields: SegmentCallFields): SegmentCallFields {
  const call: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields))
    if (value !== undefined && value !== null) call[key] = value;
  return call as SegmentCallFields;
}

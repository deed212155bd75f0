import { DEVICE_PREFIX } from '../identity/device-prefix.js';
import type { IdMergeMode, JsonObject, MixpanelEvent } from '../payload/index.js';
import { idVerdict, isAnonUuidForm } from '../validation/index.js';
import type { MappingIssue } from './issues.js';

/**
 * The one home of "which identity properties does each ID Merge API get" (the ID Merge rules in
 * docs and the conformance cases). The Segment mapper (segment/map-call.ts), the warehouse mapper
 * (warehouse/map-row.ts) and `idmerge import` (flat-row.ts, through the warehouse mapper) build
 * every identity property here:
 *
 * | what                 | Simplified                                 | Original                                        |
 * |----------------------|--------------------------------------------|-------------------------------------------------|
 * | ordinary event       | `$device_id` = device, `$user_id` = user   | `distinct_id` = distinct ?? user ?? device      |
 * | link device → user   | ordinary event carrying both IDs           | `$identify` (UUID-form anon) or `$merge`        |
 * | alias previous → user| ordinary event carrying both IDs           | `$create_alias`, or `$merge` when asked         |
 * | anonymous profile    | `$device:<device>`                         | the device ID                                   |
 *
 * A Segment call's `anonymousId` (or a row's device column) is the device here.
 */

/**
 * An ID read from a Segment call field or a warehouse column: a string as it is, a finite number
 * or a bigint in decimal. A value that names nobody (absent, empty, blank: see `idVerdict`) or
 * cannot be an ID (an object, NaN) is undefined. An ID on Mixpanel's invalid list is returned, so
 * validation refuses the record naming the payload field, instead of the ID vanishing silently.
 */
export function readId(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value === 'bigint') return value.toString();
  return typeof value === 'string' && idVerdict(value) !== 'none' ? value : undefined;
}

/** The IDs of one record, as read by `readId`. */
export interface RecordIds {
  /** The identified user (Segment `userId`, a user column). */
  user?: string;
  /** The device / anonymous ID (Segment `anonymousId`, a device column). */
  device?: string;
  /** A distinct_id to use as sent (a warehouse `distinct_id` column). */
  distinct?: string;
}

/**
 * Sets the identity properties of an ordinary event. Simplified: `$device_id` and `$user_id`, from
 * which Mixpanel derives `distinct_id` (any `distinct_id` sent beside them would be overridden, so
 * none is sent); a bare `distinct_id` only when neither is known. Original: `distinct_id` is the
 * distinct ID, else the user, else the device. The caller has made sure at least one ID is known.
 */
export function setEventIdentity(properties: JsonObject, mode: IdMergeMode, ids: RecordIds): void {
  const id = ids.distinct ?? ids.user ?? ids.device;
  if (mode === 'simplified') {
    if (ids.device !== undefined) properties.$device_id = ids.device;
    if (ids.user !== undefined) properties.$user_id = ids.user;
    if (ids.device !== undefined || ids.user !== undefined) delete properties.distinct_id;
    else if (id !== undefined) properties.distinct_id = id;
  } else if (id !== undefined) {
    properties.distinct_id = id;
  }
}

/** The distinct_id a profile of an anonymous visitor is kept under: `$device:D` in Simplified. */
export function anonymousDistinctId(mode: IdMergeMode, device: string): string {
  return mode === 'simplified' ? `${DEVICE_PREFIX}${device}` : device;
}

/**
 * True when Original's `$identify` accepts `anon` as its anonymous ID (check 2 of the spec: a UUID
 * v4, with or without `$device:`): the same test the identity model applies.
 */
export function identifyAcceptsAnonId(anon: string): boolean {
  return isAnonUuidForm(anon);
}

/** How an Original link is sent: `$identify` where it can merge, or always `$merge`. */
export interface OriginalLinkOptions {
  strategy: 'identify' | 'merge';
  /** With `identify`: what to send when `$identify` would refuse the anonymous ID. */
  nonUuidFallback: 'merge' | 'skip';
}

/** Where a link came from, for the warning about a `$identify` that would fail. */
export interface LinkSource {
  record: string;
  /** The input field holding the anonymous ID (`anonymousId`, a device column). */
  field: string;
  /** How the input names it in a sentence (`anonymousId`, `device ID`). */
  label: string;
}

/**
 * The Original event linking the anonymous ID `anon` to `user`: `$identify` when the strategy is
 * `identify` and `$identify` accepts `anon`; otherwise `$merge` (on authenticated /import), or
 * nothing when the fallback is `skip`. Mixpanel would refuse a `$identify` with a non-UUID
 * anonymous ID silently (errAnonDistinctIdNonGUIDForm), so that case comes with a warning.
 * `base` holds the event's time, `$insert_id` and token.
 */
export function originalLinkEvent(
  base: JsonObject,
  user: string,
  anon: string,
  options: OriginalLinkOptions,
  source: LinkSource,
): { event?: MixpanelEvent; warning?: MappingIssue } {
  if (options.strategy === 'identify' && identifyAcceptsAnonId(anon)) {
    return {
      event: {
        event: '$identify',
        properties: { ...base, distinct_id: user, $identified_id: user, $anon_id: anon },
      },
    };
  }
  const merge: MixpanelEvent = {
    event: '$merge',
    properties: { ...base, distinct_id: user, $distinct_ids: [user, anon] },
  };
  if (options.strategy === 'merge') return { event: merge };
  const skip = options.nonUuidFallback === 'skip';
  const warning: MappingIssue = {
    record: source.record,
    field: source.field,
    code: 'original_non_uuid_anon',
    message:
      `${source.label} "${anon}" is not a UUID v4 (with or without $device:), so Mixpanel would silently refuse the $identify (errAnonDistinctIdNonGUIDForm); ` +
      (skip ? 'the merge was skipped as configured' : 'sent as $merge through /import instead'),
  };
  return skip ? { warning } : { event: merge, warning };
}

/**
 * The Original event joining `previousId` to `user` (a Segment alias): `$create_alias`, or
 * `$merge` when asked (it merges any two clusters, identified ones too).
 */
export function originalAliasEvent(
  base: JsonObject,
  previousId: string,
  user: string,
  asMerge: boolean,
): MixpanelEvent {
  return asMerge
    ? { event: '$merge', properties: { ...base, distinct_id: user, $distinct_ids: [user, previousId] } }
    : { event: '$create_alias', properties: { ...base, distinct_id: previousId, alias: user } };
}

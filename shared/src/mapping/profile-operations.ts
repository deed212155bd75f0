import type { EngageUpdate, JsonObject, JsonValue, Payload } from '../payload/index.js';
import { finalize } from './finalize.js';
import { failure, guarded, type MappingResult } from './issues.js';
import { toJsonValue } from './json-value.js';
import { profilePropertiesFromTraits } from './traits.js';

/** Profile operations for one user, as a Segment action or a warehouse row would give them. */
export interface ProfileOperationsInput {
  user_id: string;
  ip?: string;
  set?: Record<string, unknown>;
  set_once?: Record<string, unknown>;
  add?: Record<string, unknown>;
  union?: Record<string, unknown>;
  append?: Record<string, unknown>;
  remove?: Record<string, unknown>;
  unset?: string[];
}

type Operation = '$set' | '$set_once' | '$add' | '$union' | '$append' | '$remove' | '$unset';

function jsonObject(values: Record<string, unknown> | undefined, field: string): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(values ?? {}))
    if (value !== undefined) out[key] = toJsonValue(value, key, field);
  return out;
}

/**
 * `/engage` updates for one user: one record per operation, as Mixpanel expects, with Mixpanel's
 * special trait names in `$set`/`$set_once` and `$ip: 0` when no IP is known (so the profile is
 * not geolocated to the sender). Each record is validated; an empty input is an error.
 */
export function mapProfileOperations(
  input: ProfileOperationsInput,
  options: { token?: string; record?: string } = {},
): MappingResult {
  const record = options.record ?? `user ${String(input.user_id)}`;
  return guarded(record, () => operationsFor(input, record, options.token));
}

function operationsFor(
  input: ProfileOperationsInput,
  record: string,
  token: string | undefined,
): MappingResult {
  const operations: Array<[Operation, JsonValue]> = [];
  const set = profilePropertiesFromTraits(input.set ?? {}, 'set');
  if (Object.keys(set).length > 0) operations.push(['$set', set]);
  const setOnce = profilePropertiesFromTraits(input.set_once ?? {}, 'set_once');
  if (Object.keys(setOnce).length > 0) operations.push(['$set_once', setOnce]);
  for (const [field, operation] of [
    ['add', '$add'],
    ['union', '$union'],
    ['append', '$append'],
    ['remove', '$remove'],
  ] as const) {
    const values = jsonObject(input[field], field);
    if (Object.keys(values).length > 0) operations.push([operation, values]);
  }
  if (input.unset && input.unset.length > 0) operations.push(['$unset', input.unset]);
  if (operations.length === 0) {
    return failure(
      record,
      'set',
      'no_profile_operation',
      'no profile operation has any property; map at least one',
    );
  }
  const payloads: Payload[] = operations.map(([operation, value]) => {
    const update = { $distinct_id: input.user_id, [operation]: value } as unknown as EngageUpdate;
    if (token !== undefined) update.$token = token;
    update.$ip = input.ip ?? 0;
    return { endpoint: 'engage', body: update };
  });
  return finalize(record, payloads, [], { mode: 'simplified' });
}

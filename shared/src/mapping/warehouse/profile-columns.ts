import type { JsonObject, JsonValue } from '../../payload/index.js';
import { toJsonValue } from '../json-value.js';
import type { ProfileOperation } from './column-mapping.js';

/** Which columns become properties of which operation, and under what name: worked out once per mapping. */
export interface OperationPlan {
  skip: ReadonlySet<string>;
  include?: ReadonlySet<string>;
  rename: Readonly<Record<string, string>>;
  operation: ProfileOperation;
  operations: Readonly<Record<string, ProfileOperation>>;
}

/** The order records go out in: Mixpanel applies one profile's updates in the order it receives them. */
const ORDER: readonly ProfileOperation[] = [
  '$set',
  '$set_once',
  '$add',
  '$union',
  '$append',
  '$remove',
  '$unset',
];

/**
 * One row's profile (or group) operations: each property column's value is the operand of its
 * column's operation. `$set`/`$set_once` set the value (null included); `$add` adds a number;
 * `$union` merges a list (a single value is a list of one); `$append` and `$remove` add or remove
 * one value of a list; `$unset` removes the properties the value names (a name or a list of names).
 * A NULL is no operand: nothing is added, merged, appended, removed or unset for it. Values of the
 * wrong kind are passed on as they are, so validation names the field (`$add.visits: $add takes
 * numbers only`) and the row is dead-lettered with it.
 */
export function operationRecords(
  row: Record<string, unknown>,
  plan: OperationPlan,
): Array<[ProfileOperation, JsonValue]> {
  const objects = new Map<ProfileOperation, JsonObject>();
  const unset: JsonValue[] = [];
  const { skip, include, rename } = plan;
  for (const column in row) {
    const raw = row[column];
    if (raw === undefined || skip.has(column)) continue;
    if (include !== undefined && !include.has(column)) continue;
    const operation = plan.operations[column] ?? plan.operation;
    const name = rename[column] ?? column;
    const value = toJsonValue(raw, name);
    if (value === null && operation !== '$set' && operation !== '$set_once') continue;
    if (operation === '$unset') {
      if (Array.isArray(value)) unset.push(...value);
      else unset.push(value);
      continue;
    }
    let properties = objects.get(operation);
    if (properties === undefined) objects.set(operation, (properties = {}));
    properties[name] = operation === '$union' && !Array.isArray(value) ? [value] : value;
  }
  const records: Array<[ProfileOperation, JsonValue]> = [];
  for (const operation of ORDER) {
    if (operation === '$unset') {
      if (unset.length > 0) records.push(['$unset', unset]);
      continue;
    }
    const properties = objects.get(operation);
    if (properties !== undefined) records.push([operation, properties]);
  }
  // A row with no property at all still sets nothing (an empty $set), so the key exists in Mixpanel.
  if (
    records.length === 0 &&
    objects.size === 0 &&
    (plan.operation === '$set' || plan.operation === '$set_once')
  )
    records.push([plan.operation, {}]);
  return records;
}

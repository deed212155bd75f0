import type { JsonObject, JsonValue } from '../payload/index.js';

const same = (a: JsonValue, b: JsonValue) => JSON.stringify(a) === JSON.stringify(b);
const listOf = (value: JsonValue | undefined): JsonValue[] => (Array.isArray(value) ? [...value] : []);

/**
 * Applies one validated `/groups` update to a stored group profile as Mixpanel does: `$set`
 * overwrites, `$set_once` sets only names not set yet, `$union` adds the list's values not in the
 * stored list (a property that is not a list becomes one), `$remove` takes every copy of the value
 * out of a list, `$unset` deletes the names. (`$delete` removes the whole group: the store does
 * that.) Groups have no `$add` and no `$append`; validation refuses them before this is called.
 */
export function applyGroupOperation(group: JsonObject, update: Record<string, unknown>): void {
  const set = update.$set as JsonObject | undefined;
  if (set !== undefined) for (const [name, value] of Object.entries(set)) group[name] = value;
  const setOnce = update.$set_once as JsonObject | undefined;
  if (setOnce !== undefined)
    for (const [name, value] of Object.entries(setOnce)) if (!(name in group)) group[name] = value;
  const union = update.$union as Record<string, JsonValue[]> | undefined;
  if (union !== undefined) {
    for (const [name, values] of Object.entries(union)) {
      const list = listOf(group[name]);
      for (const value of values) if (!list.some((stored) => same(stored, value))) list.push(value);
      group[name] = list;
    }
  }
  const remove = update.$remove as JsonObject | undefined;
  if (remove !== undefined) {
    for (const [name, value] of Object.entries(remove)) {
      const stored = group[name];
      if (Array.isArray(stored)) group[name] = stored.filter((item) => !same(item, value));
    }
  }
  const unset = update.$unset as string[] | undefined;
  if (unset !== undefined) for (const name of unset) delete group[name];
}

import type { JsonObject, JsonValue } from '../payload/index.js';

/** Applies one profile operation as Mixpanel does, to a stored profile. */
export function applyProfileOperation(profile: JsonObject, update: Record<string, unknown>): void {
  const set = update.$set as JsonObject | undefined;
  if (set) Object.assign(profile, set);
  const setOnce = update.$set_once as JsonObject | undefined;
  if (setOnce) for (const [k, v] of Object.entries(setOnce)) if (!(k in profile)) profile[k] = v;
  const add = update.$add as Record<string, number> | undefined;
  if (add)
    for (const [k, v] of Object.entries(add))
      profile[k] = (typeof profile[k] === 'number' ? (profile[k] as number) : 0) + v;
  const union = update.$union as Record<string, JsonValue[]> | undefined;
  if (union) {
    for (const [k, values] of Object.entries(union)) {
      const list = Array.isArray(profile[k]) ? [...(profile[k] as JsonValue[])] : [];
      for (const v of values) if (!list.some((x) => JSON.stringify(x) === JSON.stringify(v))) list.push(v);
      profile[k] = list;
    }
  }
  const append = update.$append as JsonObject | undefined;
  if (append)
    for (const [k, v] of Object.entries(append))
      profile[k] = [...(Array.isArray(profile[k]) ? (profile[k] as JsonValue[]) : []), v];
  const remove = update.$remove as JsonObject | undefined;
  if (remove) {
    for (const [k, v] of Object.entries(remove)) {
      if (Array.isArray(profile[k]))
        profile[k] = (profile[k] as JsonValue[]).filter((x) => JSON.stringify(x) !== JSON.stringify(v));
    }
  }
  const unset = update.$unset as string[] | undefined;
  if (unset) for (const k of unset) delete profile[k];
}

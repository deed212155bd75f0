import type { JsonObject } from '../payload/index.js';
import { setOwn, toJsonValue } from './json-value.js';

/** Segment trait names that map to Mixpanel's reserved profile properties. */
const SPECIAL_TRAITS: Readonly<Record<string, string>> = {
  email: '$email',
  name: '$name',
  firstName: '$first_name',
  first_name: '$first_name',
  lastName: '$last_name',
  last_name: '$last_name',
  phone: '$phone',
  createdAt: '$created',
  created_at: '$created',
  created: '$created',
  username: '$username',
  avatar: '$avatar',
};

/**
 * Profile properties from Segment traits, with Mixpanel's special names where they exist; `field`
 * names the traits in errors (`traits`, `set_once`).
 */
export function profilePropertiesFromTraits(traits: Record<string, unknown>, field = 'traits'): JsonObject {
  const properties: JsonObject = {};
  for (const [name, value] of Object.entries(traits)) {
    if (value === undefined) continue;
    const property = Object.hasOwn(SPECIAL_TRAITS, name) ? (SPECIAL_TRAITS[name] as string) : name;
    setOwn(properties, property, toJsonValue(value, name, field));
  }
  return properties;
}

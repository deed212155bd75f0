import type { JsonObject, JsonValue } from '../payload/index.js';

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

/** Profile properties from Segment traits, with Mixpanel's special names where they exist. */
export function profilePropertiesFromTraits(traits: Record<string, unknown>): JsonObject {
  const properties: JsonObject = {};
  for (const [name, value] of Object.entries(traits)) {
    if (value === undefined) continue;
    properties[SPECIAL_TRAITS[name] ?? name] = toJsonValue(value);
  }
  return properties;
}

/** A JSON-safe copy of a value read from a call or a warehouse row. */
export function toJsonValue(value: unknown): JsonValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'bigint')
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) return String(value);
    const copy: JsonObject = {};
    for (const [key, inner] of Object.entries(value)) if (inner !== undefined) copy[key] = toJsonValue(inner);
    return copy;
  }
  return String(value);
}

import type { JsonObject, JsonValue } from '../payload/index.js';
import { LIMITS, MAX_VALUE_DEPTH } from '../validation/index.js';
import { MappingFailure } from './issues.js';

export { MAX_VALUE_DEPTH };

function fieldOf(path: ReadonlyArray<string | number>): string {
  let field = '';
  for (const part of path) {
    if (typeof part === 'number') field += `[${part}]`;
    else field += field === '' ? part : `.${part}`;
  }
  return field;
}

function tooDeep(path: ReadonlyArray<string | number>): MappingFailure {
  return new MappingFailure(
    fieldOf(path),
    'too_deep',
    `is nested more than ${MAX_VALUE_DEPTH} levels deep; Mixpanel accepts at most ${LIMITS.maxNestingDepth} levels in event properties: flatten it at the source`,
  );
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * `target[key] = value` as an own property whatever the key: a `__proto__` key (JSON.parse makes
 * it an ordinary property) would otherwise replace the object's prototype instead.
 */
export function setOwn(target: JsonObject, key: string, value: JsonValue): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

function convert(value: unknown, path: Array<string | number>): JsonValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  // JSON has no NaN or Infinity: they become null, as JSON.stringify (and every Mixpanel SDK) sends them.
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'bigint')
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) {
      throw new MappingFailure(
        fieldOf(path),
        'invalid_date',
        'is an invalid date (outside the range of dates or unparseable); fix the value at the source',
      );
    }
    return value.toISOString();
  }
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (typeof value !== 'object') return String(value);
  if (path.length > MAX_VALUE_DEPTH) throw tooDeep(path);
  if (Array.isArray(value)) {
    const copy: JsonValue[] = new Array<JsonValue>(value.length);
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      copy[i] = convert(value[i], path);
      path.pop();
    }
    return copy;
  }
  if (!isPlainObject(value)) return String(value);
  const copy: JsonObject = {};
  for (const key of Object.keys(value)) {
    const inner = (value as Record<string, unknown>)[key];
    if (inner === undefined) continue;
    path.push(key);
    setOwn(copy, key, convert(inner, path));
    path.pop();
  }
  return copy;
}

/**
 * A JSON-safe copy of a value read from a call, a row or a file. `field` names the value in an
 * error: an invalid Date or a value nested deeper than `MAX_VALUE_DEPTH` throws a MappingFailure
 * naming the exact place (`properties.cart.items[3]`; `parent.field` when `parent` is given), which
 * every mapper turns into an issue.
 */
export function toJsonValue(value: unknown, field = 'value', parent?: string): JsonValue {
  // Scalars (nearly every value) need no path: no allocation on the hot path.
  if (typeof value !== 'object' || value === null) return convert(value, NO_PATH);
  return convert(value, parent === undefined ? [field] : [parent, field]);
}

const NO_PATH: Array<string | number> = [];

/**
 * True when `value` cannot be sent as it is: a bigint, Date, Buffer or other non-plain object
 * anywhere inside it, or more nesting than `MAX_VALUE_DEPTH` (toJsonValue then reports it).
 * Plain JSON (what JSON.parse gives) needs no conversion.
 */
export function needsConversion(value: unknown, depth = 0): boolean {
  if (typeof value === 'bigint') return true;
  if (typeof value !== 'object' || value === null) return false;
  if (depth >= MAX_VALUE_DEPTH) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (needsConversion(value[i], depth + 1)) return true;
    return false;
  }
  if (!isPlainObject(value)) return true;
  for (const key in value) {
    if (needsConversion((value as Record<string, unknown>)[key], depth + 1)) return true;
  }
  return false;
}

/** Throws `too_deep` (naming the place) when `value` is nested deeper than `MAX_VALUE_DEPTH`. */
export function checkDepth(value: unknown, field: string): void {
  const path: Array<string | number> = [field];
  const walk = (inner: unknown): void => {
    if (typeof inner !== 'object' || inner === null) return;
    if (path.length > MAX_VALUE_DEPTH) throw tooDeep(path);
    if (Array.isArray(inner)) {
      for (let i = 0; i < inner.length; i++) {
        path.push(i);
        walk(inner[i]);
        path.pop();
      }
      return;
    }
    for (const key in inner) {
      path.push(key);
      walk((inner as Record<string, unknown>)[key]);
      path.pop();
    }
  };
  walk(value);
}

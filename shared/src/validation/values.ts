import { LIMITS } from './limits.js';

export interface Violation {
  /** Where: `event`, `properties.time`, `properties.cart.items[3]`, … */
  field: string;
  /** What is wrong and what to do about it. */
  message: string;
}

const SURROGATE = /[\uD800-\uDFFF]/;

/** True when `text` holds a lone UTF-16 surrogate, which cannot be encoded as UTF-8. */
export function hasLoneSurrogate(text: string): boolean {
  // Fast path: most strings hold no surrogate at all (a native scan); pair them up only if they do.
  if (!SURROGATE.test(text)) return false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
      else return true;
    } else if (code >= 0xdc00 && code <= 0xdfff) {
      return true;
    }
  }
  return false;
}

/** Strings up to this length are scanned by a loop; longer ones by the regex's native scan. */
const SHORT_STRING = 32;

/**
 * True when `checkString` would report nothing for `text` (no surrogate at all, not too long), so
 * the common case needs neither a regex call nor a field name. Anything else goes the full way.
 */
export function isUnremarkableString(text: string): boolean {
  if (text.length > LIMITS.maxStringLength) return false;
  if (text.length > SHORT_STRING) return !SURROGATE.test(text);
  for (let i = 0; i < text.length; i++) {
    if ((text.charCodeAt(i) & 0xf800) === 0xd800) return false; // any surrogate, paired or not
  }
  return true;
}

/** Worst case UTF-8 bytes a string takes inside JSON (escapes included), cheap to compute. */
function jsonBytesUpperBound(text: string): number {
  return text.length * 6 + 2;
}

/** Exact UTF-8 bytes of `value` as JSON; 0 when it cannot be JSON (a bigint, nesting beyond
 * MAX_VALUE_DEPTH), which walkValue has already reported or which no mapper sends. */
function exactJsonBytes(value: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
  } catch {
    return 0;
  }
}

interface Walk {
  violations: Violation[];
  warnings: Violation[];
}

function checkString(text: string, field: string, walk: Walk): void {
  if (isUnremarkableString(text)) return;
  if (hasLoneSurrogate(text)) {
    walk.violations.push({
      field,
      message: 'is not valid UTF-8 (it holds a lone surrogate); fix the encoding at the source',
    });
  } else if (text.length > LIMITS.maxStringLength) {
    walk.warnings.push({
      field,
      message: `is ${text.length} characters long; Mixpanel truncates strings to ${LIMITS.maxStringLength}`,
    });
  }
}

/** Walks a property value; returns an upper bound of its JSON size in bytes. */
function walkValue(value: unknown, field: string, depth: number, walk: Walk): number {
  if (typeof value === 'string') {
    checkString(value, field, walk);
    return jsonBytesUpperBound(value);
  }
  if (typeof value !== 'object' || value === null) return 24;
  if (depth > LIMITS.maxNestingDepth) {
    walk.violations.push({
      field,
      message: `is nested ${depth} levels deep; Mixpanel accepts at most ${LIMITS.maxNestingDepth}: flatten it`,
    });
    return 0;
  }
  let bytes = 2;
  if (Array.isArray(value)) {
    if (value.length >= LIMITS.maxArrayItems) {
      walk.violations.push({
        field,
        message: `has ${value.length} items; Mixpanel accepts lists of fewer than ${LIMITS.maxArrayItems}`,
      });
    }
    for (let i = 0; i < value.length; i++)
      bytes += walkValue(value[i], `${field}[${i}]`, depth + 1, walk) + 1;
  } else {
    const keys = Object.keys(value);
    if (keys.length >= LIMITS.maxObjectKeys) {
      walk.violations.push({
        field,
        message: `has ${keys.length} keys; Mixpanel accepts objects with fewer than ${LIMITS.maxObjectKeys}`,
      });
    }
    for (const key of keys) {
      checkString(key, `${field}.${key}`, walk);
      bytes +=
        jsonBytesUpperBound(key) +
        1 +
        walkValue((value as Record<string, unknown>)[key], `${field}.${key}`, depth + 1, walk) +
        1;
    }
  }
  if (depth === 1 && bytes > LIMITS.maxCollectionBytes) {
    const exact = exactJsonBytes(value);
    if (exact > LIMITS.maxCollectionBytes) {
      walk.violations.push({
        field,
        message: `is ${exact} bytes as JSON; Mixpanel accepts list and object properties of at most ${LIMITS.maxCollectionBytes}`,
      });
    }
  }
  return bytes;
}

const KNOWN_KEYS = 8;
const cleanKeys: string[] = Array.from({ length: KNOWN_KEYS }, () => '');

/**
 * The usual event in one cheap pass: fewer than `maxProperties` properties, each a short key with a
 * scalar or short string value, nothing to report. True only when checkValueTree's full walk would
 * report nothing; anything else (or any doubt) returns false and the full walk runs.
 */
function isPlainFlatEvent(name: unknown, props: Record<string, unknown>, maxEventBytes: number): boolean {
  if (typeof name === 'string' && !isUnremarkableString(name)) return false;
  let count = 0;
  let bytes = 32 + jsonBytesUpperBound(typeof name === 'string' ? name : '');
  // for…in with an own-property test visits exactly Object.keys' keys in the same order, and V8
  // reads each value through the enumeration cache instead of a megamorphic keyed lookup.
  for (const key in props) {
    if (!Object.prototype.hasOwnProperty.call(props, key)) continue;
    const value = props[key];
    // Keys repeat from event to event in the same places: comparing with the key last seen clean
    // there is one pointer comparison for the usual (internalized) key, cheaper than a scan.
    if (count >= KNOWN_KEYS || key !== cleanKeys[count]) {
      if (!isUnremarkableString(key)) return false;
      if (count < KNOWN_KEYS) cleanKeys[count] = key;
    }
    count++;
    if (typeof value === 'string') {
      if (!isUnremarkableString(value)) return false;
      bytes += jsonBytesUpperBound(key) + jsonBytesUpperBound(value) + 2;
    } else if (typeof value !== 'object' || value === null) {
      bytes += jsonBytesUpperBound(key) + 24 + 2;
    } else {
      return false;
    }
  }
  return count < LIMITS.maxProperties && bytes <= maxEventBytes;
}

/**
 * Checks every value of an event's properties against Mixpanel's limits: property count, nesting,
 * list and object sizes, UTF-8, long strings (warnings) and the whole event's size.
 */
export function checkValueTree(
  event: Record<string, unknown>,
  violations: Violation[],
  warnings: Violation[],
  maxEventBytes: number,
): void {
  const name = event.event;
  const props = event.properties as Record<string, unknown>;
  if (isPlainFlatEvent(name, props, maxEventBytes)) return;
  // Made only when something may need reporting.
  let walk: Walk | undefined;
  if (typeof name === 'string' && !isUnremarkableString(name)) {
    checkString(name, 'event', (walk ??= { violations, warnings }));
  }
  const keys = Object.keys(props);
  if (keys.length >= LIMITS.maxProperties) {
    violations.push({
      field: 'properties',
      message: `has ${keys.length} properties; Mixpanel accepts fewer than ${LIMITS.maxProperties}: drop or combine some`,
    });
  }
  let bytes = 32 + jsonBytesUpperBound(typeof name === 'string' ? name : '');
  for (const key of keys) {
    const value = props[key];
    // Fast path, the usual flat property: a short key and a scalar value with nothing to report.
    // It adds the same bytes as walkValue and skips building the field name.
    if (isUnremarkableString(key)) {
      if (typeof value === 'string') {
        if (isUnremarkableString(value)) {
          bytes += jsonBytesUpperBound(key) + jsonBytesUpperBound(value) + 2;
          continue;
        }
      } else if (typeof value !== 'object' || value === null) {
        bytes += jsonBytesUpperBound(key) + 24 + 2;
        continue;
      }
    }
    const field = `properties.${key}`;
    walk ??= { violations, warnings };
    checkString(key, field, walk);
    bytes += jsonBytesUpperBound(key) + walkValue(value, field, 1, walk) + 2;
  }
  if (bytes > maxEventBytes) {
    const exact = exactJsonBytes(event);
    if (exact > maxEventBytes) {
      violations.push({
        field: '',
        message: `the event is ${exact} bytes as JSON; Mixpanel accepts events under ${maxEventBytes} bytes`,
      });
    }
  }
}

/**
 * Identifier rules of Mixpanel's ingestion API (strict-mode event validation).
 */

/** Values Mixpanel refuses as distinct_id, $device_id, $user_id or $insert_id (trimmed, any case). */
export const INVALID_IDS: ReadonlySet<string> = new Set([
  '00000000-0000-0000-0000-000000000000',
  'anon',
  'anonymous',
  'nil',
  'none',
  'null',
  'n/a',
  'na',
  'undefined',
  'unknown',
  '<nil>',
  '0',
  '-1',
  'true',
  'false',
  '[]',
  '{}',
]);

const ZERO_UUID = '00000000-0000-0000-0000-000000000000';
const LONGEST_INVALID_WORD = 9; // 'anonymous', 'undefined'

/** Visible ASCII, which trim() never removes. */
function isVisibleAscii(code: number): boolean {
  return code > 0x20 && code < 0x7f;
}

function lowerAscii(code: number): number {
  return code >= 0x41 && code <= 0x5a ? code | 0x20 : code;
}

/**
 * Visible ASCII characters that some invalid ID ends with, in either case. An ID ending with any
 * other visible ASCII character cannot be invalid, which spares the usual ID (`user-42`, `D1837`)
 * a trim, a lower-casing copy and a set lookup.
 */
const INVALID_LAST_CHARS: Uint8Array = (() => {
  const marks = new Uint8Array(128);
  for (const id of INVALID_IDS) {
    const last = id.charCodeAt(id.length - 1);
    marks[last] = 1;
    marks[String.fromCharCode(last).toUpperCase().charCodeAt(0)] = 1;
  }
  return marks;
})();

/** (length, first, last) of an ID, its edge characters in lower case: a cheap fingerprint. */
function shapeOf(length: number, first: number, last: number): number {
  return (length * 128 + lowerAscii(first)) * 128 + lowerAscii(last);
}

/**
 * Shapes of the invalid IDs. When an ID starts and ends with visible ASCII nothing is trimmed, and
 * lower-casing keeps the length and the edges of any string it can turn into an (all-ASCII)
 * invalid ID, so an ID of another shape cannot be invalid.
 */
const INVALID_SHAPES: ReadonlySet<number> = new Set(
  Array.from(INVALID_IDS, (id) => shapeOf(id.length, id.charCodeAt(0), id.charCodeAt(id.length - 1))),
);

export function isInvalidId(id: string): boolean {
  const last = id.charCodeAt(id.length - 1);
  if (isVisibleAscii(last)) {
    if (INVALID_LAST_CHARS[last] === 0) return false;
    const first = id.charCodeAt(0);
    if (isVisibleAscii(first) && !INVALID_SHAPES.has(shapeOf(id.length, first, last))) return false;
  }
  const trimmed = id.trim();
  // Only the zero UUID is longer than the words; skip lower-casing for the usual long IDs.
  if (trimmed.length > LONGEST_INVALID_WORD) return trimmed === ZERO_UUID;
  return INVALID_IDS.has(trimmed.toLowerCase());
}

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

export function isUuidV4(id: string): boolean {
  return UUID_V4.test(id);
}

/** How the SDKs name a generated anonymous ID since 2023: `$device:<UUID v4>`. */
const DEVICE_PREFIX = '$device:';

/**
 * The UUID form `$identify` accepts for its anonymous ID: a UUID v4, with or without the
 * `$device:` prefix (Original ID Merge).
 */
export function isAnonUuidForm(id: string): boolean {
  return isUuidV4(id.startsWith(DEVICE_PREFIX) ? id.slice(DEVICE_PREFIX.length) : id);
}

/** At most 36 characters of `[A-Za-z0-9-]`, and not on the invalid-ID list. */
export function isValidInsertId(id: string): boolean {
  return isInsertIdShaped(id) && !isInvalidId(id);
}

/** `/^[A-Za-z0-9-]{1,36}$/` as a loop: cheaper than a regex call for such short strings. */
function isInsertIdShaped(id: string): boolean {
  if (id.length === 0 || id.length > 36) return false;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    const letter = (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a; // a-z after folding A-Z onto it
    if (!letter && !(c >= 0x30 && c <= 0x39) && c !== 0x2d) return false;
  }
  return true;
}

/**
 * What a value in an identity field (`distinct_id`, `$device_id`, `$user_id`, `$identified_id`,
 * `$anon_id`, `alias`, `$distinct_ids[i]`) amounts to, by one rule shared by the mapping layer,
 * validation and the identity model:
 * - `none`: absent, null, empty, or only whitespace. Mixpanel trims IDs before it compares them
 *   with its list of invalid IDs, so a blank ID names nobody, exactly like an empty one;
 * - `not_a_string`: any other value that is not a string;
 * - `invalid`: on Mixpanel's list of invalid IDs (it would merge unrelated people);
 * - `usable`: any other string, kept exactly as sent (IDs are never trimmed).
 */
export type IdVerdict = 'none' | 'not_a_string' | 'invalid' | 'usable';

/** `text.trim() === ''`, without the call when the first character is visible ASCII. */
export function isBlank(text: string): boolean {
  if (text.length === 0) return true;
  const first = text.charCodeAt(0);
  if (first > 0x20 && first < 0x7f) return false;
  return text.trim() === '';
}

export function idVerdict(value: unknown): IdVerdict {
  if (typeof value !== 'string') return value === undefined || value === null ? 'none' : 'not_a_string';
  if (isBlank(value)) return 'none';
  return isInvalidId(value) ? 'invalid' : 'usable';
}

/** The ID `value` names when it is usable (see `idVerdict`), else undefined. */
export function usableId(value: unknown): string | undefined {
  return idVerdict(value) === 'usable' ? (value as string) : undefined;
}

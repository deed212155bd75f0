/**
 * Identifier rules of Mixpanel's ingestion API (../shared/spec/ingestion-api.md, "Event validation").
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

/**
 * Printable ASCII characters (never trimmed) that some invalid ID ends with, in either case. An ID
 * ending with any other printable ASCII character cannot be invalid, which spares the usual ID
 * (`user-42`, `D1837`) a trim, a lower-casing copy and a set lookup.
 */
const INVALID_LAST_CHARS: Uint8Array = (() => {
  const marks = new Uint8Array(128);
  for (const id of INVALID_IDS) {
    const last = id.charAt(id.length - 1);
    marks[last.toLowerCase().charCodeAt(0)] = 1;
    marks[last.toUpperCase().charCodeAt(0)] = 1;
  }
  return marks;
})();

export function isInvalidId(id: string): boolean {
  const last = id.charCodeAt(id.length - 1);
  if (last > 0x20 && last < 0x7f && INVALID_LAST_CHARS[last] === 0) return false;
  const trimmed = id.trim();
  // Only the zero UUID is longer than the words; skip lower-casing for the usual long IDs.
  if (trimmed.length > LONGEST_INVALID_WORD) return trimmed === ZERO_UUID;
  return INVALID_IDS.has(trimmed.toLowerCase());
}

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

export function isUuidV4(id: string): boolean {
  return UUID_V4.test(id);
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

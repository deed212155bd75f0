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

export function isInvalidId(id: string): boolean {
  const trimmed = id.trim();
  // Only the zero UUID is longer than the words; skip lower-casing for the usual long IDs.
  if (trimmed.length > LONGEST_INVALID_WORD) return trimmed === ZERO_UUID;
  return INVALID_IDS.has(trimmed.toLowerCase());
}

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

export function isUuidV4(id: string): boolean {
  return UUID_V4.test(id);
}

const INSERT_ID = /^[A-Za-z0-9-]{1,36}$/;

/** At most 36 characters of `[A-Za-z0-9-]`, and not on the invalid-ID list. */
export function isValidInsertId(id: string): boolean {
  return INSERT_ID.test(id) && !isInvalidId(id);
}

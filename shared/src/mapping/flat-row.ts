import type { IdMergeMode, JsonObject, JsonValue, MixpanelEvent } from '../payload/index.js';
import { finalize } from './finalize.js';
import { deriveInsertId } from './insert-id.js';
import { failure, guarded, type MappingResult } from './issues.js';
import { checkDepth, needsConversion, toJsonValue } from './json-value.js';
import { parseEventTime } from './time.js';
import type { EventsMapping } from './warehouse/column-mapping.js';
import { mapWarehouseRow } from './warehouse/map-row.js';

export interface FlatRowOptions {
  mode: IdMergeMode;
  /** IANA zone of zone-less times. */
  timeZone?: string;
  token?: string;
  /** Position of the record in its file, for errors. */
  index?: number;
  nowMs?: number;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const first = (row: Record<string, unknown>, names: string[]): string | undefined =>
  names.find((name) => name in row);

/**
 * A record of `idmerge import`: an event already in Mixpanel's shape (`{event, properties}`), or a
 * flat row with `event`, `time`, `distinct_id`, `$device_id`/`device_id`, `$user_id`/`user_id`,
 * `$insert_id`/`insert_id` columns and the rest as properties. A missing `$insert_id` is derived
 * from the whole record, so the same record always gets the same ID.
 */
export function flatRowToEvent(record: unknown, options: FlatRowOptions): MappingResult {
  const label = options.index === undefined ? 'record' : `index ${options.index}`;
  if (!isObject(record)) return failure(label, '', 'not_an_object', 'a record must be a JSON object');
  if (isObject(record.properties) && 'event' in record)
    return guarded(label, () => normaliseShaped(record, label, options));
  return guarded(label, () => mapFlatRow(record, label, options));
}

function mapFlatRow(record: Record<string, unknown>, label: string, options: FlatRowOptions): MappingResult {
  let row = record;
  let insertColumn = first(record, ['$insert_id', 'insert_id']);
  if (insertColumn === undefined) {
    // No insert ID: derive one from the whole row, so the same row always gets the same ID. Hashing
    // walks every value, so a value nested too deep is refused first, naming its column.
    const keys = Object.keys(record).sort();
    for (const key of keys) if (typeof record[key] === 'object') checkDepth(record[key], key);
    row = { ...record, $insert_id: deriveInsertId(keys.flatMap((key) => [key, record[key]])) };
    insertColumn = '$insert_id';
  }
  const mapping: EventsMapping = {
    type: 'events',
    event: 'event',
    time: 'time',
    time_zone: options.timeZone,
    device_id: first(record, ['$device_id', 'device_id']),
    user_id: first(record, ['$user_id', 'user_id']),
    distinct_id: 'distinct_id' in record ? 'distinct_id' : undefined,
    insert_id: insertColumn,
  };
  const result = mapWarehouseRow(row, mapping, {
    mode: options.mode,
    token: options.token,
    nowMs: options.nowMs,
  });
  if (!result.ok) return { ok: false, errors: result.errors.map((e) => ({ ...e, record: label })) };
  return result;
}

/** True when a `{event, properties}` record needs no change at all to be sent. */
function isReadyAsIs(
  record: Record<string, unknown>,
  source: Record<string, unknown>,
  options: FlatRowOptions,
): boolean {
  let keys = 0;
  for (const _key in record) keys++;
  if (keys !== 2 || typeof record.event !== 'string' || typeof source.time !== 'number') return false;
  if (typeof source.$insert_id !== 'string' || source.$insert_id === '') return false;
  if (options.token !== undefined && source.token === undefined) return false;
  for (const key in source) if (source[key] === undefined || needsConversion(source[key])) return false;
  return true;
}

function normaliseShaped(
  record: Record<string, unknown>,
  label: string,
  options: FlatRowOptions,
): MappingResult {
  const source = record.properties as Record<string, unknown>;
  if (isReadyAsIs(record, source, options)) {
    // Already exactly a Mixpanel event: the record is the payload, nothing copied.
    const result = finalize(
      label,
      [{ endpoint: 'import', body: record as unknown as MixpanelEvent }],
      [],
      options,
    );
    return result.ok ? { ...result, sameAsInput: true } : result;
  }
  // Records parsed from JSON are JSON already: copy the top level, converting only values JSON cannot
  // hold as they are (bigints, Dates, Buffers; from Parquet) or nested too deep to handle.
  const properties: JsonObject = {};
  for (const key in source) {
    const value = source[key];
    if (value === undefined) continue;
    properties[key] = needsConversion(value) ? toJsonValue(value, key, 'properties') : (value as JsonValue);
  }
  if (typeof source.time !== 'number') {
    const time = parseEventTime(source.time, { timeZone: options.timeZone, nowMs: options.nowMs });
    if (!time.ok) return failure(label, 'properties.time', 'bad_time', time.message);
    properties.time = time.ms;
  }
  if (properties.$insert_id === undefined || properties.$insert_id === null || properties.$insert_id === '') {
    properties.$insert_id = deriveInsertId([record.event, source]);
  }
  if (options.token !== undefined && properties.token === undefined) properties.token = options.token;
  const event = { event: typeof record.event === 'string' ? record.event : '', properties };
  return finalize(label, [{ endpoint: 'import', body: event }], [], options);
}

import type { IdMergeMode, JsonObject, MixpanelEvent, Payload } from '../../payload/index.js';
import { isAnonUuidForm } from '../../validation/index.js';
import { finalize } from '../finalize.js';
import { deriveInsertId, insertIdFrom } from '../insert-id.js';
import { failure, MappingFailure, type MappingIssue, type MappingResult } from '../issues.js';
import { parseEventTime } from '../time.js';
import { toJsonValue } from '../traits.js';
import type {
  ColumnMapping,
  EventsMapping,
  GroupsMapping,
  IdentitiesMapping,
  ProfilesMapping,
} from './column-mapping.js';
import { operationRecords, type OperationPlan } from './profile-columns.js';

export interface RowMappingOptions {
  mode: IdMergeMode;
  token?: string;
  /** Columns that identify a row in errors and dead-letters (the sync's primary key). */
  keyColumns?: readonly string[];
  /** Position of the row in its batch, used in errors when there is no key. */
  rowIndex?: number;
  nowMs?: number;
}

type Row = Record<string, unknown>;

function rowLabel(row: Row, options: RowMappingOptions): string {
  const keys = options.keyColumns ?? [];
  if (keys.length > 0) return `row ${keys.map((key) => `${key}=${String(row[key])}`).join(',')}`;
  return options.rowIndex === undefined ? 'row' : `row ${options.rowIndex}`;
}

/** A row value as an ID string: strings as they are, numbers and bigints in decimal; empty is none. */
export function idValue(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'bigint') return value.toString();
  return undefined;
}

function requiredId(row: Row, column: string, role: string): string {
  const value = idValue(row[column]);
  if (value === undefined) {
    throw new MappingFailure(
      column,
      'missing_id',
      `the ${role} column "${column}" is empty; every row needs it`,
    );
  }
  return value;
}

function rowTime(row: Row, column: string, timeZone: string | undefined, nowMs: number | undefined): number {
  const time = parseEventTime(row[column], { timeZone, nowMs });
  if (!time.ok) throw new MappingFailure(column, 'bad_time', time.message);
  return time.ms;
}

function rowInsertId(row: Row, spec: string | string[] | undefined, fallbackParts: unknown[]): string {
  if (spec === undefined) return deriveInsertId(fallbackParts);
  if (typeof spec === 'string') {
    const value = idValue(row[spec]);
    if (value === undefined) {
      throw new MappingFailure(
        spec,
        'missing_insert_id',
        `the insert_id column "${spec}" is empty; it must identify the row`,
      );
    }
    return insertIdFrom(value);
  }
  return deriveInsertId(spec.map((column) => row[column]));
}

/** Which columns become properties, and under what name: worked out once per mapping, not per row. */
interface PropertyPlan {
  skip: ReadonlySet<string>;
  include?: ReadonlySet<string>;
  rename: Readonly<Record<string, string>>;
}
const propertyPlans = new WeakMap<object, PropertyPlan>();

function propertyPlan(
  mapping: object,
  used: () => Set<string>,
  spec: EventsMapping['properties'],
): PropertyPlan {
  let plan = propertyPlans.get(mapping);
  if (plan === undefined) {
    const skip = used();
    for (const column of spec?.exclude ?? []) skip.add(column);
    plan = { skip, include: spec?.include ? new Set(spec.include) : undefined, rename: spec?.rename ?? {} };
    propertyPlans.set(mapping, plan);
  }
  return plan;
}

/** The columns a mapping reads for names, times, IDs and insert IDs (not for properties). */
function identityColumns(mapping: ColumnMapping): Set<string> {
  switch (mapping.type) {
    case 'events':
      return usedColumns(
        mapping.event,
        mapping.time,
        mapping.device_id,
        mapping.user_id,
        mapping.distinct_id,
        mapping.insert_id,
      );
    case 'identities':
      return usedColumns(mapping.event, mapping.time, mapping.device_id, mapping.user_id, mapping.insert_id);
    case 'profiles':
      return usedColumns(mapping.user_id);
    case 'groups':
      return usedColumns(mapping.group_id);
  }
}

function plan(mapping: EventsMapping | ProfilesMapping | GroupsMapping): PropertyPlan {
  return propertyPlan(mapping, () => identityColumns(mapping), mapping.properties);
}

const operationPlans = new WeakMap<object, OperationPlan>();

/** The property plan of a profiles or groups mapping, with each column's operation. */
function operationPlan(mapping: ProfilesMapping | GroupsMapping): OperationPlan {
  let found = operationPlans.get(mapping);
  if (found === undefined) {
    found = { ...plan(mapping), operation: mapping.operation, operations: mapping.operations ?? {} };
    operationPlans.set(mapping, found);
  }
  return found;
}

/**
 * The columns of `available` that mapping a row reads: names, times, IDs, insert IDs, the key
 * columns that label a row in errors, and the columns that become properties. A source may read
 * only these; the payloads are the same as from the whole row.
 */
export function columnsRead(
  mapping: ColumnMapping,
  available: readonly string[],
  keyColumns: readonly string[] = [],
): string[] {
  const read = identityColumns(mapping);
  for (const column of keyColumns) read.add(column);
  const properties = mapping.type === 'identities' ? undefined : plan(mapping);
  return available.filter(
    (column) =>
      read.has(column) ||
      (properties !== undefined &&
        !properties.skip.has(column) &&
        (properties.include === undefined || properties.include.has(column))),
  );
}

/** Properties from the columns not used for identity, with include/exclude/rename applied. */
function rowProperties(row: Row, plan: PropertyPlan): JsonObject {
  const properties: JsonObject = {};
  const { skip, include, rename } = plan;
  for (const column in row) {
    const value = row[column];
    if (value === undefined || skip.has(column)) continue;
    if (include !== undefined && !include.has(column)) continue;
    properties[rename[column] ?? column] = toJsonValue(value);
  }
  return properties;
}

function usedColumns(...columns: Array<string | string[] | { value: string } | undefined>): Set<string> {
  const used = new Set<string>();
  for (const column of columns) {
    if (typeof column === 'string') used.add(column);
    else if (Array.isArray(column)) for (const c of column) used.add(c);
  }
  return used;
}

function withToken(properties: JsonObject, token: string | undefined): JsonObject {
  if (token !== undefined) properties.token = token;
  return properties;
}

function eventName(row: Row, spec: string | { value: string }): string {
  if (typeof spec !== 'string') return spec.value;
  const value = row[spec];
  if (typeof value !== 'string' || value.trim() === '') {
    throw new MappingFailure(
      spec,
      'missing_event_name',
      `the event column "${spec}" is empty; every event needs a name`,
    );
  }
  return value;
}

function mapEventsRow(row: Row, mapping: EventsMapping, options: RowMappingOptions): Payload[] {
  const name = eventName(row, mapping.event);
  const time = rowTime(row, mapping.time, mapping.time_zone, options.nowMs);
  const device = mapping.device_id ? idValue(row[mapping.device_id]) : undefined;
  const user = mapping.user_id ? idValue(row[mapping.user_id]) : undefined;
  const distinct = mapping.distinct_id ? idValue(row[mapping.distinct_id]) : undefined;
  if (device === undefined && user === undefined && distinct === undefined) {
    const named = [mapping.device_id, mapping.user_id, mapping.distinct_id].filter(Boolean).join(', ');
    throw new MappingFailure(
      named || 'device_id',
      'no_identity',
      named
        ? `the identity columns (${named}) are all empty`
        : 'the mapping names no identity column (device_id, user_id or distinct_id)',
    );
  }
  const properties = rowProperties(row, plan(mapping));
  properties.time = time;
  properties.$insert_id = rowInsertId(row, mapping.insert_id, [name, time, device, user, distinct]);
  if (options.mode === 'simplified') {
    if (device !== undefined) properties.$device_id = device;
    if (user !== undefined) properties.$user_id = user;
    if (distinct !== undefined && device === undefined && user === undefined)
      properties.distinct_id = distinct;
  } else {
    properties.distinct_id = (distinct ?? user ?? device) as string;
  }
  return [{ endpoint: 'import', body: { event: name, properties: withToken(properties, options.token) } }];
}

function mapIdentitiesRow(
  row: Row,
  mapping: IdentitiesMapping,
  options: RowMappingOptions,
  record: string,
  warnings: MappingIssue[],
): Payload[] {
  const device = requiredId(row, mapping.device_id, 'device_id');
  const user = requiredId(row, mapping.user_id, 'user_id');
  const time = rowTime(row, mapping.time, mapping.time_zone, options.nowMs);
  const base: JsonObject = withToken(
    { time, $insert_id: rowInsertId(row, mapping.insert_id, ['identity', device, user]) },
    options.token,
  );
  if (device === user) {
    throw new MappingFailure(
      mapping.device_id,
      'same_ids',
      `device_id and user_id are both "${user}"; there is nothing to link`,
    );
  }
  let link: MixpanelEvent;
  if (options.mode === 'simplified') {
    link = {
      event: eventName(row, mapping.event),
      properties: { ...base, $device_id: device, $user_id: user },
    };
  } else if (mapping.original_strategy === 'identify' && isAnonUuidForm(device)) {
    link = {
      event: '$identify',
      properties: { ...base, distinct_id: user, $identified_id: user, $anon_id: device },
    };
  } else {
    if (mapping.original_strategy === 'identify') {
      warnings.push({
        record,
        field: mapping.device_id,
        code: 'original_non_uuid_anon',
        message:
          `device ID "${device}" is not a UUID v4, so Mixpanel would silently refuse the $identify; ` +
          (mapping.non_uuid_fallback === 'merge' ? 'sent as $merge instead' : 'skipped as configured'),
      });
      if (mapping.non_uuid_fallback === 'skip') return [];
    }
    link = { event: '$merge', properties: { ...base, distinct_id: user, $distinct_ids: [user, device] } };
  }
  return [{ endpoint: 'import', body: link }];
}

function mapProfilesRow(row: Row, mapping: ProfilesMapping, options: RowMappingOptions): Payload[] {
  const user = requiredId(row, mapping.user_id, 'user_id');
  return operationRecords(row, operationPlan(mapping)).map(([operation, operand]) => ({
    endpoint: 'engage' as const,
    body: {
      $distinct_id: user,
      [operation]: operand,
      $ip: 0,
      ...(options.token !== undefined ? { $token: options.token } : {}),
    },
  }));
}

function mapGroupsRow(row: Row, mapping: GroupsMapping, options: RowMappingOptions): Payload[] {
  const group = requiredId(row, mapping.group_id, 'group_id');
  return operationRecords(row, operationPlan(mapping)).map(([operation, operand]) => ({
    endpoint: 'groups' as const,
    body: {
      $group_key: mapping.group_key,
      $group_id: group,
      [operation]: operand,
      ...(options.token !== undefined ? { $token: options.token } : {}),
    },
  }));
}

/** Turns one warehouse row into Mixpanel payloads through a column mapping. */
export function mapWarehouseRow(row: Row, mapping: ColumnMapping, options: RowMappingOptions): MappingResult {
  const record = rowLabel(row, options);
  const warnings: MappingIssue[] = [];
  try {
    const payloads =
      mapping.type === 'events'
        ? mapEventsRow(row, mapping, options)
        : mapping.type === 'identities'
          ? mapIdentitiesRow(row, mapping, options, record, warnings)
          : mapping.type === 'profiles'
            ? mapProfilesRow(row, mapping, options)
            : mapGroupsRow(row, mapping, options);
    return finalize(record, payloads, warnings, options);
  } catch (error) {
    if (error instanceof MappingFailure) return failure(record, error.field, error.code, error.message);
    throw error;
  }
}

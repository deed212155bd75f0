import type { IdMergeMode, JsonObject, Payload } from '../../payload/index.js';
import { isBlank } from '../../validation/index.js';
import { finalize } from '../finalize.js';
import { originalLinkEvent, readId, setEventIdentity } from '../identity-properties.js';
import { deriveInsertId, insertIdFrom } from '../insert-id.js';
import {
  guarded,
  labelOf,
  MappingFailure,
  type MappingIssue,
  type MappingResult,
  type RecordLabel,
} from '../issues.js';
import { parseEventTime } from '../time.js';
import { toJsonValue } from '../json-value.js';
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

/** A key value as text for a label; never throws (a null-prototype object has no toString). */
function keyText(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function rowLabel(row: Row, options: RowMappingOptions): string {
  const keys = options.keyColumns ?? [];
  if (keys.length > 0) return `row ${keys.map((key) => `${key}=${keyText(row[key])}`).join(',')}`;
  return options.rowIndex === undefined ? 'row' : `row ${options.rowIndex}`;
}

function requiredId(row: Row, column: string, role: string): string {
  const value = readId(row[column]);
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
    const value = readId(row[spec]);
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
    properties[rename[column] ?? column] = toJsonValue(value, column);
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
  if (typeof value !== 'string' || isBlank(value)) {
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
  const device = mapping.device_id ? readId(row[mapping.device_id]) : undefined;
  const user = mapping.user_id ? readId(row[mapping.user_id]) : undefined;
  const distinct = mapping.distinct_id ? readId(row[mapping.distinct_id]) : undefined;
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
  setEventIdentity(properties, options.mode, { device, user, distinct });
  return [{ endpoint: 'import', body: { event: name, properties: withToken(properties, options.token) } }];
}

function mapIdentitiesRow(
  row: Row,
  mapping: IdentitiesMapping,
  options: RowMappingOptions,
  record: RecordLabel,
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
  if (options.mode === 'simplified') {
    const properties = { ...base };
    setEventIdentity(properties, 'simplified', { device, user });
    return [{ endpoint: 'import', body: { event: eventName(row, mapping.event), properties } }];
  }
  const link = originalLinkEvent(
    base,
    user,
    device,
    { strategy: mapping.original_strategy, nonUuidFallback: mapping.non_uuid_fallback },
    { record: labelOf(record), field: mapping.device_id, label: 'device ID' },
  );
  if (link.warning !== undefined) warnings.push(link.warning);
  return link.event === undefined ? [] : [{ endpoint: 'import', body: link.event }];
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
  // Made only for an issue: most rows have none, and the label is a new string every row.
  let label: string | undefined;
  const record = () => (label ??= rowLabel(row, options));
  const warnings: MappingIssue[] = [];
  return guarded(record, () => {
    const payloads =
      mapping.type === 'events'
        ? mapEventsRow(row, mapping, options)
        : mapping.type === 'identities'
          ? mapIdentitiesRow(row, mapping, options, record, warnings)
          : mapping.type === 'profiles'
            ? mapProfilesRow(row, mapping, options)
            : mapGroupsRow(row, mapping, options);
    return finalize(record, payloads, warnings, options);
  });
}

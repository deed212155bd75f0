import { z } from 'zod';

/** A column name, or a constant: `{ value: "Signed Up" }`. */
const columnOrValue = z.union([z.string().min(1), z.strictObject({ value: z.string().min(1) })]);
const columns = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);
const properties = z
  .strictObject({
    include: z.array(z.string().min(1)).optional(),
    exclude: z.array(z.string().min(1)).optional(),
    rename: z.record(z.string(), z.string().min(1)).optional(),
  })
  .optional();

const timeFields = {
  /** Column holding the event time. */
  time: z.string().min(1),
  /** IANA zone of zone-less times in the source, e.g. UTC. */
  time_zone: z.string().min(1).optional(),
  /** Column(s) whose values make the row unique; several are hashed into one `$insert_id`. */
  insert_id: columns.optional(),
};

export const eventsMappingSchema = z.strictObject({
  type: z.literal('events'),
  event: columnOrValue,
  ...timeFields,
  device_id: z.string().min(1).optional(),
  user_id: z.string().min(1).optional(),
  /** Original projects: a column with the distinct_id to use as sent. */
  distinct_id: z.string().min(1).optional(),
  properties,
});

export const identitiesMappingSchema = z.strictObject({
  type: z.literal('identities'),
  device_id: z.string().min(1),
  user_id: z.string().min(1),
  ...timeFields,
  /** Simplified: name of the link event (an ordinary event with both IDs). */
  event: columnOrValue.default({ value: 'Identity Linked' }),
  /** Original: `$identify` (anonymous IDs must be UUID v4) or `$merge` for every pair. */
  original_strategy: z.enum(['identify', 'merge']).default('identify'),
  /** Original, `identify` strategy: what to do with a non-UUID anonymous ID. */
  non_uuid_fallback: z.enum(['merge', 'skip']).default('merge'),
});

/** The `/engage` operations a column's value can be the operand of (ingestion API, profile operations). */
export const PROFILE_OPERATIONS = [
  '$set',
  '$set_once',
  '$add',
  '$union',
  '$append',
  '$remove',
  '$unset',
] as const;
/** The `/groups` operations: no `$add` and no `$append` on group profiles. */
export const GROUP_OPERATIONS = ['$set', '$set_once', '$union', '$remove', '$unset'] as const;
export type ProfileOperation = (typeof PROFILE_OPERATIONS)[number];

const profileOperation = z.enum(PROFILE_OPERATIONS);
const groupOperation = z.enum(GROUP_OPERATIONS, {
  error: `groups support ${GROUP_OPERATIONS.join(', ')} (not $add or $append)`,
});

export const profilesMappingSchema = z.strictObject({
  type: z.literal('profiles'),
  user_id: z.string().min(1),
  /** The operation for every property column not named in `operations`. */
  operation: profileOperation.default('$set'),
  /** Column → operation its value is the operand of (`$unset`: a property name or a list of names). */
  operations: z.record(z.string().min(1), profileOperation).optional(),
  properties,
});

export const groupsMappingSchema = z.strictObject({
  type: z.literal('groups'),
  /** The project's group key, e.g. `company_id` (a constant, not a column). */
  group_key: z.string().min(1),
  /** The column holding each row's group ID. */
  group_id: z.string().min(1),
  operation: groupOperation.default('$set'),
  operations: z.record(z.string().min(1), groupOperation).optional(),
  properties,
});

export const columnMappingSchema = z.discriminatedUnion('type', [
  eventsMappingSchema,
  identitiesMappingSchema,
  profilesMappingSchema,
  groupsMappingSchema,
]);

export type ColumnMappingInput = z.input<typeof columnMappingSchema>;
export type ColumnMapping = z.output<typeof columnMappingSchema>;
export type EventsMapping = z.output<typeof eventsMappingSchema>;
export type IdentitiesMapping = z.output<typeof identitiesMappingSchema>;
export type ProfilesMapping = z.output<typeof profilesMappingSchema>;
export type GroupsMapping = z.output<typeof groupsMappingSchema>;

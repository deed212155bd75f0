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

export const profilesMappingSchema = z.strictObject({
  type: z.literal('profiles'),
  user_id: z.string().min(1),
  operation: z.enum(['$set', '$set_once']).default('$set'),
  properties,
});

export const columnMappingSchema = z.discriminatedUnion('type', [
  eventsMappingSchema,
  identitiesMappingSchema,
  profilesMappingSchema,
]);

export type ColumnMappingInput = z.input<typeof columnMappingSchema>;
export type ColumnMapping = z.output<typeof columnMappingSchema>;
export type EventsMapping = z.output<typeof eventsMappingSchema>;
export type IdentitiesMapping = z.output<typeof identitiesMappingSchema>;
export type ProfilesMapping = z.output<typeof profilesMappingSchema>;

import { z } from 'zod';

/** An ID as Segment libraries send it: a string, or a number some libraries allow. */
const id = z.union([z.string(), z.number().transform(String)]);
const timestamp = z.union([z.string(), z.number(), z.date()]);
/** A plain object (what JSON.parse makes of `{…}`), as z.record(z.string(), z.unknown()) checks one. */
function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
/**
 * `context`, `traits`, `properties`: checked, not copied. A record schema would copy every one of
 * them (a new object per call and field) though the mapping only reads them.
 */
const record = z.custom<Record<string, unknown>>(isPlainRecord, {
  error: (issue) =>
    `Invalid input: expected an object, received ${issue.input === null ? 'null' : Array.isArray(issue.input) ? 'array' : typeof issue.input}`,
});

/**
 * A Segment call (https://segment.com/docs/connections/spec/): the common fields and the ones each
 * call type adds. Unknown fields pass through.
 */
export const segmentCallSchema = z.looseObject({
  type: z.enum(['identify', 'track', 'page', 'screen', 'alias', 'group']),
  messageId: id.optional(),
  anonymousId: id.nullish(),
  userId: id.nullish(),
  timestamp: timestamp.optional(),
  originalTimestamp: timestamp.optional(),
  receivedAt: timestamp.optional(),
  sentAt: timestamp.optional(),
  context: record.optional(),
  traits: record.optional(),
  properties: record.optional(),
  event: z.string().optional(),
  name: z.string().nullish(),
  category: z.string().nullish(),
  previousId: id.optional(),
  groupId: id.optional(),
});

export type SegmentCall = z.infer<typeof segmentCallSchema>;

const CALL_TYPES: ReadonlySet<unknown> = new Set(segmentCallSchema.shape.type.options);
/** Fields whose value, when present, is a string the schema passes on as it is. */
const TEXT_FIELDS = ['event', 'messageId', 'previousId', 'groupId'] as const;
/** The same, where null is allowed too. */
const NULLISH_TEXT_FIELDS = ['anonymousId', 'userId', 'name', 'category'] as const;
const TIME_FIELDS = ['timestamp', 'originalTimestamp', 'receivedAt', 'sentAt'] as const;
const RECORD_FIELDS = ['context', 'traits', 'properties'] as const;

/**
 * True when segmentCallSchema would accept `call` and give back a copy of it with nothing changed
 * (no ID given as a number, no Date): the call can then be read as it is, without that copy. Any
 * other call (including every invalid one) is left to the schema, for its result or its errors.
 */
export function isPlainSegmentCall(call: unknown): call is SegmentCall {
  if (!isPlainRecord(call) || !CALL_TYPES.has(call.type)) return false;
  for (const field of TEXT_FIELDS) {
    const value = call[field];
    if (value !== undefined && typeof value !== 'string') return false;
  }
  for (const field of NULLISH_TEXT_FIELDS) {
    const value = call[field];
    if (value !== undefined && value !== null && typeof value !== 'string') return false;
  }
  for (const field of TIME_FIELDS) {
    const value = call[field];
    if (
      value !== undefined &&
      typeof value !== 'string' &&
      !(typeof value === 'number' && Number.isFinite(value))
    )
      return false;
  }
  for (const field of RECORD_FIELDS) {
    const value = call[field];
    if (value !== undefined && !isPlainRecord(value)) return false;
  }
  return true;
}

/**
 * The fields of a Segment call this mapping reads, as a caller writes them (without the index
 * signature of the loose schema, so a misspelt field name fails to compile).
 */
export type SegmentCallFields = {
  [K in keyof z.input<typeof segmentCallSchema> as string extends K ? never : K]: z.input<
    typeof segmentCallSchema
  >[K];
};

export const segmentMappingOptionsSchema = z.object({
  mode: z.enum(['simplified', 'original']),
  /** Project token, written into each event (`token`) and profile update (`$token`) when given. */
  token: z.string().min(1).optional(),
  /** Simplified: an identify with both IDs becomes this ordinary event, so the link happens at once. */
  linkEventName: z.string().min(1).default('Identify'),
  sendLinkEvent: z.boolean().default(true),
  /** Send profile updates for anonymous visitors too (off: profiles only for identified users). */
  anonymousProfiles: z.boolean().default(false),
  /** Dotted path of the device ID in the call (default: anonymousId), e.g. `context.device.id`. */
  deviceIdPath: z.string().min(1).optional(),
  /** Name of page/screen events; `{name}` is replaced by the page or screen name. */
  pageEventName: z.string().min(1).default('Viewed {name}'),
  screenEventName: z.string().min(1).default('Viewed {name}'),
  /** Original: what to do when an identify's anonymousId is not a UUID v4 ($identify would fail). */
  originalNonUuidFallback: z.enum(['merge', 'skip']).default('merge'),
  /** Original: send an alias of two IDs as `$merge` instead of `$create_alias`. */
  aliasAsMerge: z.boolean().default(false),
  /** Mixpanel group key used for group calls and the event property naming the group. */
  groupKey: z.string().min(1).default('company_id'),
  nowMs: z.number().optional(),
});

export type SegmentMappingOptions = z.input<typeof segmentMappingOptionsSchema>;
export type ResolvedSegmentOptions = z.output<typeof segmentMappingOptionsSchema>;

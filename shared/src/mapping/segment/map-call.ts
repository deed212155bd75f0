import type { EngageUpdate, JsonObject, JsonValue, MixpanelEvent, Payload } from '../../payload/index.js';
import { isBlank } from '../../validation/index.js';
import { finalize } from '../finalize.js';
import {
  anonymousDistinctId,
  originalAliasEvent,
  originalLinkEvent,
  readId,
  setEventIdentity,
} from '../identity-properties.js';
import { deriveInsertId, insertIdFrom } from '../insert-id.js';
import { guarded, MappingFailure, type MappingIssue, type MappingResult } from '../issues.js';
import { parseEventTime } from '../time.js';
import { setOwn, toJsonValue } from '../json-value.js';
import { profilePropertiesFromTraits } from '../traits.js';
import { contextProperties, readPath } from './context.js';
import {
  isPlainSegmentCall,
  segmentCallSchema,
  segmentMappingOptionsSchema,
  type ResolvedSegmentOptions,
  type SegmentCall,
  type SegmentMappingOptions,
} from './schema.js';

const resolvedOptions = new WeakMap<SegmentMappingOptions, ResolvedSegmentOptions>();

function resolveOptions(options: SegmentMappingOptions): ResolvedSegmentOptions {
  let resolved = resolvedOptions.get(options);
  if (resolved === undefined) {
    resolved = segmentMappingOptionsSchema.parse(options);
    resolvedOptions.set(options, resolved);
  }
  return resolved;
}

/** What one call says about who did it and when, read once. */
interface CallFacts {
  call: SegmentCall;
  record: string;
  userId?: string;
  deviceId?: string;
  timeMs: number;
  insertId: string;
  options: ResolvedSegmentOptions;
  warnings: MappingIssue[];
}

/** A name (event, page, category) that is not blank; numbers some libraries send as text. */
function nonBlankText(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  return typeof value === 'string' && !isBlank(value) ? value : undefined;
}

function readFacts(call: SegmentCall, record: string, options: ResolvedSegmentOptions): CallFacts {
  const userId = readId(call.userId);
  // The device: anonymousId (or the configured path); identity-properties.ts makes it $device_id.
  const deviceId = readId(options.deviceIdPath ? readPath(call, options.deviceIdPath) : call.anonymousId);
  const rawTime = call.timestamp ?? call.originalTimestamp ?? call.receivedAt ?? call.sentAt;
  const time = parseEventTime(rawTime, { nowMs: options.nowMs });
  if (!time.ok) throw new MappingFailure('timestamp', 'bad_time', time.message);
  const messageId = readId(call.messageId);
  const insertId =
    messageId !== undefined
      ? insertIdFrom(messageId)
      : deriveInsertId([call.type, userId, deviceId, call.event, call.name, time.ms]);
  return { call, record, userId, deviceId, timeMs: time.ms, insertId, options, warnings: [] };
}

function requireSomeId(facts: CallFacts): void {
  if (facts.userId === undefined && facts.deviceId === undefined) {
    const device = facts.options.deviceIdPath ?? 'anonymousId';
    throw new MappingFailure(
      'userId',
      'no_identity',
      `the call has neither a userId nor ${device === 'anonymousId' ? 'an anonymousId' : `a device ID at ${device}`}; send one of them`,
    );
  }
}

/** An ordinary event with the identity properties of the project's API. */
function event(
  facts: CallFacts,
  name: string,
  properties: JsonObject,
  insertId = facts.insertId,
): MixpanelEvent {
  // The call's properties over the context's. Assigned, not spread: an object built from two
  // spreads and then extended is several times slower to build (and to read) in V8.
  const props = contextProperties(facts.call.context);
  for (const key of Object.keys(properties)) setOwn(props, key, properties[key] as JsonValue);
  props.time = facts.timeMs;
  props.$insert_id = insertId;
  setEventIdentity(props, facts.options.mode, { user: facts.userId, device: facts.deviceId });
  if (facts.options.token !== undefined) props.token = facts.options.token;
  return { event: name, properties: props };
}

function callProperties(facts: CallFacts): JsonObject {
  const properties: JsonObject = {};
  for (const [key, value] of Object.entries(facts.call.properties ?? {})) {
    if (value !== undefined) setOwn(properties, key, toJsonValue(value, key, 'properties'));
  }
  return properties;
}

/** A `$set` of the call's traits to the profile of `distinctId`, if there is anything to set. */
function profileSet(facts: CallFacts, distinctId: string): Payload[] {
  const traits =
    facts.call.traits ?? (facts.call.context?.traits as Record<string, unknown> | undefined) ?? {};
  const set = profilePropertiesFromTraits(traits);
  if (Object.keys(set).length === 0) return [];
  const update: EngageUpdate = { $distinct_id: distinctId, $set: set };
  if (facts.options.token !== undefined) update.$token = facts.options.token;
  // Without the visitor's IP, `$ip: 0` stops Mixpanel from geolocating the profile to our server.
  const ip = facts.call.context?.ip;
  update.$ip = typeof ip === 'string' ? ip : 0;
  return [{ endpoint: 'engage', body: update }];
}

function mapTrack(facts: CallFacts): Payload[] {
  const name = nonBlankText(facts.call.event);
  if (name === undefined)
    throw new MappingFailure('event', 'no_event_name', 'a track call needs an event name');
  requireSomeId(facts);
  return [{ endpoint: 'import', body: event(facts, name, callProperties(facts)) }];
}

function mapPageOrScreen(facts: CallFacts): Payload[] {
  requireSomeId(facts);
  const template = facts.call.type === 'page' ? facts.options.pageEventName : facts.options.screenEventName;
  const pageName = nonBlankText(facts.call.name) ?? nonBlankText(facts.call.properties?.name);
  const name = pageName
    ? // A function, so `$&` or `$'` in a page name is kept as written, not read as a replacement pattern.
      template.replace('{name}', () => pageName)
    : `Viewed ${facts.call.type === 'page' ? 'Page' : 'Screen'}`;
  const properties = callProperties(facts);
  if (pageName !== undefined) properties.name = pageName;
  if (nonBlankText(facts.call.category) !== undefined) properties.category = facts.call.category as string;
  return [{ endpoint: 'import', body: event(facts, name, properties) }];
}

function mapIdentify(facts: CallFacts): Payload[] {
  requireSomeId(facts);
  const { userId, deviceId, options } = facts;
  if (userId === undefined) {
    if (options.anonymousProfiles && deviceId !== undefined)
      return profileSet(facts, anonymousDistinctId(options.mode, deviceId));
    facts.warnings.push({
      record: facts.record,
      field: 'userId',
      code: 'anonymous_identify_skipped',
      message:
        'an identify without a userId links nothing and anonymous profiles are off, so nothing is sent; turn on anonymous profiles to keep its traits',
    });
    return [];
  }
  const payloads: Payload[] = [];
  if (deviceId !== undefined && deviceId !== userId) {
    if (options.mode === 'simplified') {
      if (options.sendLinkEvent) {
        payloads.push({ endpoint: 'import', body: event(facts, options.linkEventName, {}) });
      }
    } else {
      payloads.push(...originalLink(facts, userId, deviceId));
    }
  }
  payloads.push(...profileSet(facts, userId));
  return payloads;
}

/** Original: `$identify` for an anonymous ID in UUID form, else the configured fallback. */
function originalLink(facts: CallFacts, userId: string, anonId: string): Payload[] {
  const base = { time: facts.timeMs, $insert_id: facts.insertId } as JsonObject;
  if (facts.options.token !== undefined) base.token = facts.options.token;
  const link = originalLinkEvent(
    base,
    userId,
    anonId,
    { strategy: 'identify', nonUuidFallback: facts.options.originalNonUuidFallback },
    { record: facts.record, field: 'anonymousId', label: 'anonymousId' },
  );
  if (link.warning !== undefined) facts.warnings.push(link.warning);
  return link.event === undefined ? [] : [{ endpoint: 'import', body: link.event }];
}

function mapAlias(facts: CallFacts): Payload[] {
  const previousId = readId(facts.call.previousId);
  const userId = facts.userId;
  if (previousId === undefined || userId === undefined) {
    throw new MappingFailure(
      previousId === undefined ? 'previousId' : 'userId',
      'incomplete_alias',
      'an alias call needs both previousId and userId',
    );
  }
  if (previousId === userId) {
    throw new MappingFailure(
      'previousId',
      'alias_same_ids',
      'previousId and userId are the same; there is nothing to alias',
    );
  }
  const base: JsonObject = { time: facts.timeMs, $insert_id: facts.insertId };
  if (facts.options.token !== undefined) base.token = facts.options.token;
  if (facts.options.mode === 'simplified') {
    const anonymous = previousId === readId(facts.call.anonymousId) || previousId === facts.deviceId;
    if (!anonymous) {
      throw new MappingFailure(
        'previousId',
        'simplified_user_merge',
        `previousId "${previousId}" is not this call's anonymousId, so it names a user: joining users "${previousId}" and "${userId}" ` +
          'is impossible in Simplified ID Merge (a cluster holds one user ID). Send the anonymous ID as previousId, or merge the users in an Original project',
      );
    }
    const properties = { ...base };
    setEventIdentity(properties, 'simplified', { device: previousId, user: userId });
    return [{ endpoint: 'import', body: { event: facts.options.linkEventName, properties } }];
  }
  return [
    {
      endpoint: 'import',
      body: originalAliasEvent(base, previousId, userId, facts.options.aliasAsMerge),
    },
  ];
}

function mapGroup(facts: CallFacts): Payload[] {
  const groupId = readId(facts.call.groupId);
  if (groupId === undefined)
    throw new MappingFailure('groupId', 'no_group_id', 'a group call needs a groupId');
  const { groupKey, token } = facts.options;
  const payloads: Payload[] = [];
  const set = profilePropertiesFromTraits(facts.call.traits ?? {});
  if (Object.keys(set).length > 0) {
    payloads.push({
      endpoint: 'groups',
      body: {
        $group_key: groupKey,
        $group_id: groupId,
        $set: set,
        ...(token !== undefined ? { $token: token } : {}),
      },
    });
  }
  const member =
    facts.userId ??
    (facts.options.anonymousProfiles && facts.deviceId !== undefined
      ? anonymousDistinctId(facts.options.mode, facts.deviceId)
      : undefined);
  if (member !== undefined) {
    payloads.push({
      endpoint: 'engage',
      body: {
        $distinct_id: member,
        $union: { [groupKey]: [groupId] },
        ...(token !== undefined ? { $token: token } : {}),
      },
    });
  }
  if (payloads.length === 0) {
    facts.warnings.push({
      record: facts.record,
      field: 'traits',
      code: 'empty_group',
      message: 'the group call has no traits and no userId, so nothing is sent',
    });
  }
  return payloads;
}

function recordLabel(call: unknown, index: number | undefined): string {
  const messageId =
    typeof call === 'object' && call !== null ? (call as { messageId?: unknown }).messageId : undefined;
  if (typeof messageId === 'string' && messageId !== '') return `message ${messageId}`;
  return index === undefined ? 'call' : `index ${index}`;
}

/**
 * Turns one Segment call into Mixpanel payloads for the project's ID Merge API. A call that cannot
 * be mapped comes back as errors naming the call, the field and what to do.
 */
export function mapSegmentCall(call: unknown, options: SegmentMappingOptions, index?: number): MappingResult {
  const record = recordLabel(call, index);
  // Most calls need no conversion: they are read as they are, without the schema's copy.
  const parsed = isPlainSegmentCall(call)
    ? { success: true as const, data: call }
    : segmentCallSchema.safeParse(call);
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.map((issue) => ({
        record,
        field: issue.path.join('.') || 'call',
        code: 'invalid_call',
        message: issue.message,
      })),
    };
  }
  const resolved = resolveOptions(options);
  return guarded(record, () => {
    const facts = readFacts(parsed.data, record, resolved);
    const payloads =
      parsed.data.type === 'track'
        ? mapTrack(facts)
        : parsed.data.type === 'page' || parsed.data.type === 'screen'
          ? mapPageOrScreen(facts)
          : parsed.data.type === 'identify'
            ? mapIdentify(facts)
            : parsed.data.type === 'alias'
              ? mapAlias(facts)
              : mapGroup(facts);
    return finalize(record, payloads, facts.warnings, resolved);
  });
}

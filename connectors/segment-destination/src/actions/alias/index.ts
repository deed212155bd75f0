import type { SegmentCallFields } from '@idmerge/shared/mapping';
import type { ActionDefinition } from '../../actions-core.js';
import type { PayloadSink } from '../../deliver.js';
import type { Settings } from '../../settings.js';
import { callPerformers } from '../perform.js';
import { segmentCall } from '../segment-call.js';
import { aliasFields, type AliasPayload } from './fields.js';

/**
 * The Segment alias call the payload stands for. The shared mapping layer's
 * identity-properties.ts joins `previousId` to `userId`: `$create_alias` (or `$merge`) in
 * Original; in Simplified an ordinary event with `previousId` as `$device_id`, allowed only when
 * `previousId` is the call's `anonymousId` (two user IDs never merge there).
 */
export function aliasCall(payload: AliasPayload): SegmentCallFields {
  return segmentCall({
    type: 'alias',
    userId: payload.user_id,
    anonymousId: payload.anonymous_id,
    timestamp: payload.timestamp,
    messageId: payload.message_id,
    context: payload.context,
    previousId: payload.previous_id,
  });
}

/** The action; with a sink, payloads go to it instead of Mixpanel's HTTP API. */
export function aliasAction(sink?: PayloadSink): ActionDefinition<Settings, AliasPayload> {
  return {
    title: 'Alias',
    description:
      'Join a previous ID to the user ID: Original ID Merge sends $create_alias; Simplified sends an ordinary event carrying both IDs (identity events are refused by Simplified projects).',
    defaultSubscription: 'type = "alias"',
    fields: aliasFields,
    ...callPerformers(aliasCall, sink),
  };
}

export const alias = aliasAction();

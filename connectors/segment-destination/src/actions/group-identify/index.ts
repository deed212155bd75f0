import type { SegmentCallFields } from '@idmerge/shared/mapping';
import type { ActionDefinition } from '../../actions-core.js';
import type { PayloadSink } from '../../deliver.js';
import type { Settings } from '../../settings.js';
import { callPerformers } from '../perform.js';
import { segmentCall } from '../segment-call.js';
import { groupIdentifyFields, type GroupIdentifyPayload } from './fields.js';

/**
 * The Segment group call the payload stands for. The shared mapping layer sets the traits on the
 * group profile (/groups) and adds the group to the member's profile: the user, or (with anonymous
 * profiles on) the anonymous ID as identity-properties.ts names it (`$device:<id>` in Simplified).
 */
export function groupCall(payload: GroupIdentifyPayload): SegmentCallFields {
  return segmentCall({
    type: 'group',
    userId: payload.user_id,
    anonymousId: payload.anonymous_id,
    timestamp: payload.timestamp,
    messageId: payload.message_id,
    context: payload.context,
    groupId: payload.group_id,
    traits: payload.traits,
  });
}

/** The action; with a sink, payloads go to it instead of Mixpanel's HTTP API. */
export function groupIdentifyAction(sink?: PayloadSink): ActionDefinition<Settings, GroupIdentifyPayload> {
  return {
    title: 'Group Identify',
    description:
      'Set the group’s traits on its Mixpanel group profile (/groups) and attach the user to the group.',
    defaultSubscription: 'type = "group"',
    fields: groupIdentifyFields,
    ...callPerformers(groupCall, sink),
  };
}

export const groupIdentify = groupIdentifyAction();

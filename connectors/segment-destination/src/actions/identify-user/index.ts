import type { SegmentCallFields } from '@idmerge/shared/mapping';
import type { ActionDefinition } from '../../actions-core.js';
import type { PayloadSink } from '../../deliver.js';
import type { Settings } from '../../settings.js';
import { callPerformers } from '../perform.js';
import { segmentCall } from '../segment-call.js';
import { identifyUserFields, type IdentifyUserPayload } from './fields.js';

/**
 * The Segment identify call the payload stands for. The shared mapping layer's
 * identity-properties.ts links `anonymousId` to `userId`: in Simplified an ordinary event carrying
 * both as `$device_id`/`$user_id`, in Original a `$identify` with `anonymousId` as `$anon_id`
 * (or the `$merge` fallback); the traits become a `$set` on the user's profile.
 */
export function identifyCall(payload: IdentifyUserPayload): SegmentCallFields {
  return segmentCall({
    type: 'identify',
    userId: payload.user_id,
    anonymousId: payload.anonymous_id,
    timestamp: payload.timestamp,
    messageId: payload.message_id,
    context: payload.context,
    traits: payload.traits,
  });
}

/** The action; with a sink, payloads go to it instead of Mixpanel's HTTP API. */
export function identifyUserAction(sink?: PayloadSink): ActionDefinition<Settings, IdentifyUserPayload> {
  return {
    title: 'Identify User',
    description:
      'Link the anonymous ID to the user ID the way your ID Merge API expects (Simplified: an event with both IDs; Original: $identify only with a UUID v4 anonymous ID) and $set the traits on the user profile. An identify without a user ID sends no $identify.',
    defaultSubscription: 'type = "identify"',
    fields: identifyUserFields,
    ...callPerformers(identifyCall, sink),
  };
}

export const identifyUser = identifyUserAction();

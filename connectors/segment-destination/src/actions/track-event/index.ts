import type { SegmentCallFields } from '@idmerge/shared/mapping';
import type { ActionDefinition } from '../../actions-core.js';
import type { PayloadSink } from '../../deliver.js';
import type { Settings } from '../../settings.js';
import { callPerformers } from '../perform.js';
import { segmentCall } from '../segment-call.js';
import { trackEventFields, type TrackEventPayload } from './fields.js';

/**
 * The Segment track/page/screen call the payload stands for. The shared mapping layer turns it
 * into a Mixpanel event; its identity-properties.ts makes `anonymousId` the event's `$device_id`
 * (Simplified) or its `distinct_id` when there is no user ID (Original).
 */
export function trackCall(payload: TrackEventPayload): SegmentCallFields {
  const type = payload.call_type === 'page' || payload.call_type === 'screen' ? payload.call_type : 'track';
  return segmentCall({
    type,
    userId: payload.user_id,
    anonymousId: payload.anonymous_id,
    timestamp: payload.timestamp,
    messageId: payload.message_id,
    context: payload.context,
    event: payload.event,
    name: payload.name,
    properties: payload.properties,
  });
}

/** The action; with a sink, payloads go to it instead of Mixpanel's HTTP API. */
export function trackEventAction(sink?: PayloadSink): ActionDefinition<Settings, TrackEventPayload> {
  return {
    title: 'Track Event',
    description:
      'Send track, page and screen calls to Mixpanel /import with the identity properties of your ID Merge API.',
    defaultSubscription: 'type = "track" or type = "page" or type = "screen"',
    fields: trackEventFields,
    ...callPerformers(trackCall, sink),
  };
}

export const trackEvent = trackEventAction();

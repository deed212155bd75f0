import type { ActionDefinition } from '../../actions-core.js';
import { batchFields, callBase, callPerformers, identityFields, type CallPayload } from '../../run.js';
import type { PayloadSink } from '../../deliver.js';
import type { Settings } from '../../settings.js';

export interface TrackEventPayload extends CallPayload {
  call_type?: string;
  event?: string;
  name?: string | null;
  properties?: Record<string, unknown>;
}

/** Rebuilds the Segment track/page/screen call the shared mapping layer turns into an event. */
export function trackCall(payload: TrackEventPayload): Record<string, unknown> {
  const type = payload.call_type === 'page' || payload.call_type === 'screen' ? payload.call_type : 'track';
  const call = callBase(payload);
  call.type = type;
  if (payload.event !== undefined) call.event = payload.event;
  if (payload.name != null) call.name = payload.name;
  if (payload.properties !== undefined) call.properties = payload.properties;
  return call;
}

/** The action; with a sink, payloads go to it instead of Mixpanel's HTTP API. */
export function trackEventAction(sink?: PayloadSink): ActionDefinition<Settings, TrackEventPayload> {
  return {
    title: 'Track Event',
    description:
      'Send track, page and screen calls to Mixpanel /import with the identity properties of your ID Merge API.',
    defaultSubscription: 'type = "track" or type = "page" or type = "screen"',
    fields: {
      call_type: {
        label: 'Call type',
        description: 'track, page or screen; page and screen become "Viewed {name}" events.',
        type: 'string',
        default: { '@path': '$.type' },
      },
      event: {
        label: 'Event name',
        description: 'Name of the event (track calls).',
        type: 'string',
        default: { '@path': '$.event' },
      },
      name: {
        label: 'Page or screen name',
        description: 'Name of the page or screen (page and screen calls).',
        type: 'string',
        allowNull: true,
        default: { '@path': '$.name' },
      },
      properties: {
        label: 'Event properties',
        description: 'Properties sent with the event.',
        type: 'object',
        default: { '@path': '$.properties' },
      },
      ...identityFields,
      ...batchFields,
    },
    ...callPerformers(trackCall, sink),
  };
}

export const trackEvent = trackEventAction();

import type { ActionDefinition } from '../../actions-core.js';
import { batchFields, callBase, callPerformers, identityFields, type CallPayload } from '../../run.js';
import type { PayloadSink } from '../../deliver.js';
import type { Settings } from '../../settings.js';

export interface IdentifyUserPayload extends CallPayload {
  traits?: Record<string, unknown>;
}

export function identifyCall(payload: IdentifyUserPayload): Record<string, unknown> {
  const call = callBase(payload);
  call.type = 'identify';
  if (payload.traits !== undefined) call.traits = payload.traits;
  return call;
}

/** The action; with a sink, payloads go to it instead of Mixpanel's HTTP API. */
export function identifyUserAction(sink?: PayloadSink): ActionDefinition<Settings, IdentifyUserPayload> {
  return {
    title: 'Identify User',
    description:
      'Link the anonymous ID to the user ID the way your ID Merge API expects (Simplified: an event with both IDs; Original: $identify only with a UUID v4 anonymous ID) and $set the traits on the user profile. An identify without a user ID sends no $identify.',
    defaultSubscription: 'type = "identify"',
    fields: {
      traits: {
        label: 'User traits',
        description: 'Traits set on the user profile ($set).',
        type: 'object',
        default: { '@path': '$.traits' },
      },
      ...identityFields,
      ...batchFields,
    },
    ...callPerformers(identifyCall, sink),
  };
}

export const identifyUser = identifyUserAction();

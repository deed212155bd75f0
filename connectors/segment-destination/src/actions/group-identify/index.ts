import type { ActionDefinition } from '../../actions-core.js';
import { batchFields, callBase, callPerformers, identityFields, type CallPayload } from '../../run.js';
import type { PayloadSink } from '../../deliver.js';
import type { Settings } from '../../settings.js';

export interface GroupIdentifyPayload extends CallPayload {
  group_id?: string;
  traits?: Record<string, unknown>;
}

export function groupCall(payload: GroupIdentifyPayload): Record<string, unknown> {
  const call = callBase(payload);
  call.type = 'group';
  if (payload.group_id !== undefined) call.groupId = payload.group_id;
  if (payload.traits !== undefined) call.traits = payload.traits;
  return call;
}

/** The action; with a sink, payloads go to it instead of Mixpanel's HTTP API. */
export function groupIdentifyAction(sink?: PayloadSink): ActionDefinition<Settings, GroupIdentifyPayload> {
  return {
    title: 'Group Identify',
    description:
      'Set the group’s traits on its Mixpanel group profile (/groups) and attach the user to the group.',
    defaultSubscription: 'type = "group"',
    fields: {
      group_id: {
        label: 'Group ID',
        description: 'The group (Segment groupId).',
        type: 'string',
        required: true,
        default: { '@path': '$.groupId' },
      },
      traits: {
        label: 'Group traits',
        description: 'Traits set on the group profile.',
        type: 'object',
        default: { '@path': '$.traits' },
      },
      ...identityFields,
      ...batchFields,
    },
    ...callPerformers(groupCall, sink),
  };
}

export const groupIdentify = groupIdentifyAction();

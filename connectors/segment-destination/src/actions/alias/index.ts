import type { ActionDefinition } from '../../actions-core.js';
import { batchFields, callBase, callPerformers, identityFields, type CallPayload } from '../../run.js';
import type { PayloadSink } from '../../deliver.js';
import type { Settings } from '../../settings.js';

export interface AliasPayload extends CallPayload {
  previous_id?: string;
}

export function aliasCall(payload: AliasPayload): Record<string, unknown> {
  const call = callBase(payload);
  call.type = 'alias';
  if (payload.previous_id !== undefined) call.previousId = payload.previous_id;
  return call;
}

/** The action; with a sink, payloads go to it instead of Mixpanel's HTTP API. */
export function aliasAction(sink?: PayloadSink): ActionDefinition<Settings, AliasPayload> {
  return {
    title: 'Alias',
    description:
      'Join a previous ID to the user ID: Original ID Merge sends $create_alias; Simplified sends an ordinary event carrying both IDs (identity events are refused by Simplified projects).',
    defaultSubscription: 'type = "alias"',
    fields: {
      previous_id: {
        label: 'Previous ID',
        description: 'The earlier ID of the user (Segment previousId).',
        type: 'string',
        required: true,
        default: { '@path': '$.previousId' },
      },
      ...identityFields,
      ...batchFields,
    },
    ...callPerformers(aliasCall, sink),
  };
}

export const alias = aliasAction();

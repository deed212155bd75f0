import { batchFields, identityFields } from '../common-fields.js';
import { defineFields, type PayloadOf } from '../field-types.js';

/** The fields of Group Identify; its payload type is derived from them. */
export const groupIdentifyFields = defineFields({
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
});

export type GroupIdentifyPayload = PayloadOf<typeof groupIdentifyFields>;

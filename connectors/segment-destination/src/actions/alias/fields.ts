import { batchFields, identityFields } from '../common-fields.js';
import { defineFields, type PayloadOf } from '../field-types.js';

/** The fields of Alias; its payload type is derived from them. */
export const aliasFields = defineFields({
  previous_id: {
    label: 'Previous ID',
    description: 'The earlier ID of the user (Segment previousId).',
    type: 'string',
    required: true,
    default: { '@path': '$.previousId' },
  },
  ...identityFields,
  ...batchFields,
});

export type AliasPayload = PayloadOf<typeof aliasFields>;

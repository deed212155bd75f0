import { batchFields, identityFields } from '../common-fields.js';
import { defineFields, type PayloadOf } from '../field-types.js';

/** The fields of Identify User; its payload type is derived from them. */
export const identifyUserFields = defineFields({
  traits: {
    label: 'User traits',
    description: 'Traits set on the user profile ($set).',
    type: 'object',
    default: { '@path': '$.traits' },
  },
  ...identityFields,
  ...batchFields,
});

export type IdentifyUserPayload = PayloadOf<typeof identifyUserFields>;

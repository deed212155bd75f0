import type { InputField } from '../../actions-core.js';
import { batchFields } from '../common-fields.js';
import { defineFields, type PayloadOf } from '../field-types.js';

const objectField = <const Label extends string>(label: Label, description: string) =>
  ({ label, description, type: 'object', additionalProperties: true }) as const satisfies InputField;

/** The fields of Profile Operations; its payload type is derived from them. */
export const profileOperationsFields = defineFields({
  user_id: {
    label: 'User ID',
    description: 'The profile to update (its distinct_id: the user ID).',
    type: 'string',
    required: true,
    default: { '@path': '$.userId' },
  },
  ip: {
    label: 'IP address',
    description:
      'Used by Mixpanel to geolocate the profile; when empty, $ip 0 stops it geolocating to the sender.',
    type: 'string',
    default: { '@path': '$.context.ip' },
  },
  set: { ...objectField('Set', 'Properties to set ($set).'), default: { '@path': '$.traits' } },
  set_once: objectField('Set once', 'Properties set only when not set yet ($set_once).'),
  add: objectField('Add', 'Numbers to add to numeric properties ($add); negative to subtract.'),
  union: objectField('Union', 'Lists merged into list properties without duplicates ($union).'),
  append: objectField('Append', 'Values appended to list properties ($append).'),
  remove: objectField('Remove', 'Values removed from list properties ($remove).'),
  unset: {
    label: 'Unset',
    description: 'Names of properties to remove from the profile ($unset).',
    type: 'string',
    multiple: true,
  },
  ...batchFields,
});

export type ProfileOperationsPayload = PayloadOf<typeof profileOperationsFields>;

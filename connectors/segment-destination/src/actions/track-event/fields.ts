import { batchFields, identityFields } from '../common-fields.js';
import { defineFields, type PayloadOf } from '../field-types.js';

/** The fields of Track Event; its payload type is derived from them. */
export const trackEventFields = defineFields({
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
});

export type TrackEventPayload = PayloadOf<typeof trackEventFields>;

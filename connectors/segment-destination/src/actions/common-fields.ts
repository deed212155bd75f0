import { defineFields } from './field-types.js';

/**
 * Fields every call-based action shares: who (user_id, anonymous_id), when, and the message ID
 * that becomes the `$insert_id`. Each action's builder (`…Call` in its index.ts) puts them back
 * into a Segment call; the shared mapping layer's identity-properties.ts then decides what they
 * become for the project's ID Merge API (anonymous_id → `$device_id` in Simplified, `distinct_id`
 * in Original, `$anon_id` of a `$identify`).
 */
export const identityFields = defineFields({
  user_id: {
    label: 'User ID',
    description: 'The known user ID (Segment userId).',
    type: 'string',
    allowNull: true,
    default: { '@path': '$.userId' },
  },
  anonymous_id: {
    label: 'Anonymous ID',
    description:
      'The device / anonymous ID (Segment anonymousId). In Original ID Merge it must be a UUID v4 for $identify to merge.',
    type: 'string',
    allowNull: true,
    default: { '@path': '$.anonymousId' },
  },
  timestamp: {
    label: 'Timestamp',
    description: 'When the call happened (timestamp, else the time Segment received it).',
    type: 'string',
    default: {
      '@if': {
        exists: { '@path': '$.timestamp' },
        then: { '@path': '$.timestamp' },
        else: { '@path': '$.receivedAt' },
      },
    },
  },
  message_id: {
    label: 'Message ID',
    description: 'Segment messageId; becomes the $insert_id so retries are deduplicated.',
    type: 'string',
    default: { '@path': '$.messageId' },
  },
  context: {
    label: 'Context',
    description: 'Segment context (library, device, OS, IP …), turned into Mixpanel default properties.',
    type: 'object',
    default: { '@path': '$.context' },
  },
});

/** Batching settings of every action. */
export const batchFields = defineFields({
  enable_batching: {
    label: 'Batch data to Mixpanel',
    description: 'Send events in gzipped batches; each event gets its own result.',
    type: 'boolean',
    default: true,
  },
  batch_size: {
    label: 'Batch size',
    description: 'Events per batch (at most 2000, Mixpanel’s /import limit).',
    type: 'number',
    minimum: 1,
    maximum: 2000,
    default: 1000,
    unsafe_hidden: true,
  },
});

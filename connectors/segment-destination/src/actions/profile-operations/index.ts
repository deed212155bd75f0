import { mapProfileOperations, type ProfileOperationsInput } from '@idmerge/shared/mapping';
import type { ActionDefinition, InputField, RequestClient } from '../../actions-core.js';
import { deliverPrepared, type PayloadSink, type Prepared } from '../../deliver.js';
import { batchFields, multiStatus, performPrepared } from '../../run.js';
import type { Settings } from '../../settings.js';

export interface ProfileOperationsPayload extends ProfileOperationsInput {
  [key: string]: unknown;
  enable_batching?: boolean;
  batch_size?: number;
}

/**
 * The profile updates for one event, built by the shared mapping layer (one validated /engage
 * record per operation).
 */
export function prepareProfileOperations(payload: ProfileOperationsPayload, settings: Settings): Prepared {
  const mapped = mapProfileOperations(payload, { token: settings.project_token || undefined });
  if (mapped.ok) return { ok: true, payloads: mapped.payloads };
  const detail = mapped.errors.map((e) => `${e.field ? `${e.field}: ` : ''}${e.message}`).join('; ');
  return { ok: false, message: `user ${payload.user_id}: ${detail}` };
}

const objectField = (label: string, description: string): InputField => ({
  label,
  description,
  type: 'object',
  additionalProperties: true,
});

export function profileOperationsAction(
  sink?: PayloadSink,
): ActionDefinition<Settings, ProfileOperationsPayload> {
  const run = (request: RequestClient, settings: Settings, items: ProfileOperationsPayload[]) =>
    deliverPrepared(
      request,
      settings,
      items.map((item) => prepareProfileOperations(item, settings)),
      items,
      sink,
    );
  return {
    title: 'Profile Operations',
    description:
      'Update a user profile with any /engage operation: $set, $set_once, $add, $union, $append, $remove, $unset. Profiles are keyed by the user ID, in both ID Merge APIs.',
    defaultSubscription: 'type = "identify" and userId != null',
    fields: {
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
    },
    perform: async (request, { settings, payload }) =>
      (await performPrepared(await run(request, settings, [payload]))).sent,
    performBatch: async (request, { settings, payload }) =>
      multiStatus(await run(request, settings, payload)),
  };
}

export const profileOperations = profileOperationsAction();

import { mapProfileOperations, type ProfileOperationsInput } from '@idmerge/shared/mapping';
import type { ActionDefinition } from '../../actions-core.js';
import type { PayloadSink, Prepared } from '../../deliver.js';
import type { Settings } from '../../settings.js';
import { preparedPerformers } from '../perform.js';
import { profileOperationsFields, type ProfileOperationsPayload } from './fields.js';

/** The profile operations the payload asks for, as the shared mapping layer takes them. */
export function profileOperationsInput(payload: ProfileOperationsPayload): ProfileOperationsInput {
  return {
    user_id: payload.user_id,
    ip: payload.ip,
    set: payload.set,
    set_once: payload.set_once,
    add: payload.add,
    union: payload.union,
    append: payload.append,
    remove: payload.remove,
    unset: payload.unset,
  };
}

/**
 * The profile updates for one event, built by the shared mapping layer (one validated /engage
 * record per operation, keyed by the user ID in both ID Merge APIs).
 */
export function prepareProfileOperations(payload: ProfileOperationsPayload, settings: Settings): Prepared {
  const mapped = mapProfileOperations(profileOperationsInput(payload), {
    token: settings.project_token || undefined,
  });
  if (mapped.ok) return { ok: true, payloads: mapped.payloads };
  const detail = mapped.errors.map((e) => `${e.field ? `${e.field}: ` : ''}${e.message}`).join('; ');
  return { ok: false, message: `user ${payload.user_id}: ${detail}` };
}

export function profileOperationsAction(
  sink?: PayloadSink,
): ActionDefinition<Settings, ProfileOperationsPayload> {
  return {
    title: 'Profile Operations',
    description:
      'Update a user profile with any /engage operation: $set, $set_once, $add, $union, $append, $remove, $unset. Profiles are keyed by the user ID, in both ID Merge APIs.',
    defaultSubscription: 'type = "identify" and userId != null',
    fields: profileOperationsFields,
    ...preparedPerformers(prepareProfileOperations, sink),
  };
}

export const profileOperations = profileOperationsAction();

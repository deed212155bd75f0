import type { Sender } from '@idmerge/shared';
import type { SyncDefinition } from './definition.js';
import { deletePayload, type DeletePlan, type DeleteReport } from './deletes.js';
import type { ProfileHashes } from './profile-hashes.js';

/**
 * Sends the plan's `$delete`s through the sender (batched per endpoint, retried, dead-lettered like
 * every record) and waits for them. A key leaves the state only once the `$delete` of its ID was
 * accepted; `failed` is filled by the run's undelivered-records listener meanwhile, through the
 * `deleteOf` mark on each record's original.
 */
export async function sendDeletes(
  definition: SyncDefinition,
  plan: DeletePlan,
  hashes: ProfileHashes,
  sender: Sender,
  failed: ReadonlySet<string>,
  deleteOf: symbol,
): Promise<DeleteReport> {
  const primaryKey = definition.source.primary_key;
  for (const [id, keys] of plan.byId) {
    // The dead-letter entry names the row's key (the first, when several keys were sent as this ID).
    const original = { [primaryKey]: keys[0] ?? id, [deleteOf]: id };
    const wait = sender.send(deletePayload(definition, id), original);
    if (wait !== undefined) await wait;
  }
  await sender.drain();
  let accepted = 0;
  for (const [id, keys] of plan.byId) {
    if (failed.has(id)) continue;
    accepted++;
    for (const key of keys) hashes.remove(key);
  }
  for (const key of plan.released) hashes.remove(key);
  hashes.commit();
  return {
    sent: plan.size,
    accepted,
    failed: plan.size - accepted,
    released: plan.released.length,
    unknownIds: plan.unknownIds,
  };
}

import { InsertIdSet } from './insert-id-set.js';

/**
 * Benchmark sink: counts `/import` records, checks each is an event with a `$insert_id`, and
 * counts repeated insert IDs. Stores nothing else, so it is never the bottleneck.
 */
export function createSink() {
  let seen = new InsertIdSet();
  const empty = () => ({ requests: 0, received: 0, accepted: 0, duplicates: 0, rejected: 0 });
  let counts = empty();
  return {
    take(records: unknown[]): number {
      counts.requests++;
      let accepted = 0;
      for (const record of records) {
        counts.received++;
        const id = (record as { properties?: { $insert_id?: unknown } } | null)?.properties?.$insert_id;
        if (typeof id !== 'string' || id === '') counts.rejected++;
        else if (!seen.add(id)) counts.duplicates++;
        else {
          counts.accepted++;
          accepted++;
        }
      }
      return accepted;
    },
    /** `invalid` repeats `rejected` under the name benchmark scripts use. */
    stats: () => ({ ...counts, invalid: counts.rejected }),
    reset() {
      seen = new InsertIdSet();
      counts = empty();
    },
  };
}

import { expect } from 'vitest';
import type { IdMergeMode } from '@idmerge/shared';
import type { VectorCase } from '@idmerge/shared/test/vectors';
import { eventually, startCollectProcess, type CollectProcess } from './collect-process.js';
import { startSandboxProcess, type SandboxProcess } from './sandbox-process.js';

interface StoredEvent {
  event: string;
  ingested_distinct_id: string;
  distinct_id: string;
}

/** A sandbox (service-account auth) and a collect delivering to it, write key `wk`. */
export async function startPair(
  mode: IdMergeMode,
): Promise<{ sandbox: SandboxProcess; collect: CollectProcess }> {
  const sandbox = await startSandboxProcess([
    '--mode',
    mode,
    '--service-account',
    'sa:secret',
    '--project-id',
    '7',
    '--project-token',
    'tok',
  ]);
  try {
    const collect = await startCollectProcess(['--mode', mode], {
      MIXPANEL_API_HOST: sandbox.url,
      MIXPANEL_SERVICE_ACCOUNT_USERNAME: 'sa',
      MIXPANEL_SERVICE_ACCOUNT_SECRET: 'secret',
      MIXPANEL_PROJECT_ID: '7',
      MIXPANEL_PROJECT_TOKEN: 'tok',
      SEGMENT_WRITE_KEY: 'wk',
    });
    return { sandbox, collect };
  } catch (error) {
    await sandbox.stop();
    throw error;
  }
}

/** Waits until collect has accepted `calls` calls and delivered (or dead-lettered) all of them. */
export async function drained(collect: CollectProcess, calls: number): Promise<void> {
  await eventually(async () => {
    const stats = await collect.stats();
    return stats.accepted >= calls && stats.queue.calls === 0;
  }, `${calls} calls accepted and delivered`);
  const stats = await collect.stats();
  expect(stats.deadLettered).toBe(0);
}

/**
 * The sandbox holds the flow's events with the vector's distinct_ids and the vector's clusters;
 * `stored` turns the vector's device names into the IDs the client used.
 */
export async function expectFlowInSandbox(
  sandbox: SandboxProcess,
  vector: VectorCase,
  stored: (id: string) => string,
): Promise<void> {
  const events = (await sandbox.ndjson<StoredEvent>('/_sandbox/events')).filter(
    (e) => e.event !== 'Identify' && e.event !== '$identify',
  );
  expect(
    events.map((e) => ({ ingested_distinct_id: e.ingested_distinct_id, distinct_id: e.distinct_id })),
  ).toEqual(
    vector.expect.events.map((e) =>
      'rejected' in e
        ? e
        : { ingested_distinct_id: stored(e.ingested_distinct_id), distinct_id: stored(e.distinct_id) },
    ),
  );
  const { clusters } = await sandbox.json<{ clusters: Array<{ distinct_id: string; members: string[] }> }>(
    '/_sandbox/clusters',
  );
  const expected = vector.expect.clusters
    .map((c) => ({ distinct_id: stored(c.distinct_id), members: c.members.map(stored).sort() }))
    .sort((a, b) => (a.distinct_id < b.distinct_id ? -1 : 1));
  expect(clusters).toEqual(expected);
}

/** Calls a flow makes: an identify before each event that has a user, then the event. */
export function flowCalls(vector: VectorCase): number {
  return vector.events.reduce<number>(
    (sum, raw) => sum + ((raw as { properties: { $user_id?: string } }).properties.$user_id ? 2 : 1),
    0,
  );
}

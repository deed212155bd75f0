import { randomUUID } from 'node:crypto';
import { Analytics } from '@segment/analytics-node';
import { describe, expect, it } from 'vitest';
import { loadVectorCases, type VectorCase } from '@idmerge/shared/test/vectors';
import { drained, expectFlowInSandbox, flowCalls, startPair } from './support/collect-flows.js';

const FLOWS = [
  'simplified/new-user-signup',
  'simplified/returning-user',
  'simplified/multiple-users-one-device',
];

/**
 * The flow as an app instrumented with Segment makes it: anonymous events with the device's
 * anonymous ID; on login `identify(userId)` then the event with both IDs; after a reset, a new
 * anonymous ID. In Original the anonymous IDs are UUID v4 (what analytics.js generates).
 */
function sendFlow(
  analytics: Analytics,
  vector: VectorCase,
  deviceName: (device: string) => string,
  start: number,
) {
  vector.events.forEach((raw, i) => {
    const { event, properties } = raw as { event: string; properties: Record<string, unknown> };
    const anonymousId = deviceName(properties.$device_id as string);
    const userId = properties.$user_id as string | undefined;
    const timestamp = new Date(start + i * 1000);
    if (userId !== undefined)
      analytics.identify({
        userId,
        anonymousId,
        traits: { plan: 'free' },
        timestamp,
        messageId: `identify-${i}`,
      });
    analytics.track({
      event,
      anonymousId,
      ...(userId ? { userId } : {}),
      timestamp,
      messageId: `event-${i}`,
      properties: { step: i },
    });
  });
}

describe('@segment/analytics-node → idmerge collect → idmerge sandbox (separate processes)', () => {
  for (const mode of ['simplified', 'original'] as const) {
    for (const name of FLOWS) {
      it(`${name} in ${mode}: clusters and per-event distinct_ids equal the flow's tables`, async () => {
        const vector = loadVectorCases().find((c) => c.name === name);
        if (!vector) throw new Error(`fixture ${name} is missing`);
        const uuids = new Map<string, string>();
        const deviceName = (device: string) => {
          if (mode === 'simplified') return device;
          const id = uuids.get(device) ?? randomUUID();
          uuids.set(device, id);
          return id;
        };
        const stored = (id: string) =>
          id.startsWith('$device:') ? (mode === 'simplified' ? id : deviceName(id.slice(8))) : id;

        const { sandbox, collect } = await startPair(mode);
        try {
          const analytics = new Analytics({
            writeKey: 'wk',
            host: collect.url,
            flushAt: 100,
            flushInterval: 50,
            maxRetries: 0,
          });
          const errors: unknown[] = [];
          analytics.on('error', (error) => errors.push(error));
          sendFlow(analytics, vector, deviceName, Date.now() - 60_000);
          await analytics.closeAndFlush({ timeout: 10_000 });
          expect(errors).toEqual([]);
          await drained(collect, flowCalls(vector));
          await expectFlowInSandbox(sandbox, vector, stored);
        } finally {
          await collect.stop();
          await sandbox.stop();
        }
      });
    }
  }
});

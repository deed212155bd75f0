import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Analytics } from '@segment/analytics-node';
import { describe, expect, it } from 'vitest';
import { loadVectorCases, type VectorCase } from '@idmerge/shared/test/vectors';
import { IDMERGE, REPO_ROOT } from './support/run-cli.js';
import { startSandboxProcess } from './support/sandbox-process.js';

const FLOWS = [
  'simplified/new-user-signup',
  'simplified/returning-user',
  'simplified/multiple-users-one-device',
];

interface StoredEvent {
  event: string;
  ingested_distinct_id: string;
  distinct_id: string;
}

/** `idmerge collect --port 0 …` as its own process, delivering to `apiHost`. */
function startCollect(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ url: string; child: ChildProcess; output: () => string; stop(): Promise<number | null> }> {
  const child = spawn(process.execPath, [IDMERGE, 'collect', '--port', '0', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`collect did not start: ${output}`)), 20_000);
    child.on('exit', (code) => reject(new Error(`collect exited with ${code}: ${output}`)));
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (!match?.[1]) return;
      clearTimeout(timer);
      resolve({
        url: match[1],
        child,
        output: () => output,
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done(child.exitCode);
            child.once('exit', (code) => done(code));
            child.kill('SIGTERM');
          }),
      });
    });
  });
}

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
        const collect = await startCollect(
          [
            '--mode',
            mode,
            '--write-key',
            'wk',
            '--flush-interval-ms',
            '100',
            '--dead-letter',
            join(REPO_ROOT, 'node_modules', '.cache', `collect-e2e-${mode}.ndjson`),
          ],
          {
            MIXPANEL_API_HOST: sandbox.url,
            MIXPANEL_SERVICE_ACCOUNT_USERNAME: 'sa',
            MIXPANEL_SERVICE_ACCOUNT_SECRET: 'secret',
            MIXPANEL_PROJECT_ID: '7',
            MIXPANEL_PROJECT_TOKEN: 'tok',
            MIXPANEL_REGION: '',
          },
        );
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
          expect(await collect.stop()).toBe(0);

          const events = (await sandbox.ndjson<StoredEvent>('/_sandbox/events')).filter(
            (e) => e.event !== 'Identify' && e.event !== '$identify',
          );
          expect(
            events.map((e) => ({ ingested_distinct_id: e.ingested_distinct_id, distinct_id: e.distinct_id })),
          ).toEqual(
            vector.expect.events.map((e) =>
              'rejected' in e
                ? e
                : {
                    ingested_distinct_id: stored(e.ingested_distinct_id),
                    distinct_id: stored(e.distinct_id),
                  },
            ),
          );
          const clusters = (
            await sandbox.json<{ clusters: Array<{ distinct_id: string; members: string[] }> }>(
              '/_sandbox/clusters',
            )
          ).clusters;
          const expected = vector.expect.clusters
            .map((c) => ({ distinct_id: stored(c.distinct_id), members: c.members.map(stored).sort() }))
            .sort((a, b) => (a.distinct_id < b.distinct_id ? -1 : 1));
          expect(clusters).toEqual(expected);
        } finally {
          await collect.stop();
          await sandbox.stop();
        }
      });
    }
  }
});

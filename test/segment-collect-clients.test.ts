import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import RudderAnalytics from '@rudderstack/rudder-sdk-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadVectorCases, type VectorCase } from '@idmerge/shared/test/vectors';
import { chromiumOrSkip, launchChromium } from './support/chromium.js';
import { drained, expectFlowInSandbox, flowCalls, startPair } from './support/collect-flows.js';

const MODES = ['simplified', 'original'] as const;

function vectorNamed(name: string): VectorCase {
  const vector = loadVectorCases().find((c) => c.name === name);
  if (!vector) throw new Error(`fixture ${name} is missing`);
  return vector;
}

/** Device names of a vector as the client's anonymous IDs: as they are, or UUID v4 in Original. */
function devices(mode: (typeof MODES)[number]) {
  const uuids = new Map<string, string>();
  const deviceName = (device: string) => {
    if (mode === 'simplified') return device;
    const id = uuids.get(device) ?? randomUUID();
    uuids.set(device, id);
    return id;
  };
  const stored = (id: string) =>
    id.startsWith('$device:') ? (mode === 'simplified' ? id : deviceName(id.slice(8))) : id;
  return { deviceName, stored };
}

/** The flow's steps: for each event, its anonymous ID, its user (if any) and its name. */
function steps(vector: VectorCase, deviceName: (device: string) => string) {
  return vector.events.map((raw) => {
    const { event, properties } = raw as { event: string; properties: Record<string, unknown> };
    return {
      event,
      anonymousId: deviceName(properties.$device_id as string),
      userId: properties.$user_id as string | undefined,
    };
  });
}

describe('@rudderstack/rudder-sdk-node → idmerge collect → idmerge sandbox', () => {
  for (const mode of MODES)
    it(`simplified/returning-user in ${mode}: the flow's clusters`, async () => {
      const vector = vectorNamed('simplified/returning-user');
      const { deviceName, stored } = devices(mode);
      const { sandbox, collect } = await startPair(mode);
      try {
        const errors: unknown[] = [];
        const client = new RudderAnalytics('wk', {
          dataPlaneUrl: collect.url,
          flushAt: 50,
          flushInterval: 50,
          retryCount: 0,
          errorHandler: (error: unknown) => void errors.push(error),
        });
        const start = Date.now() - 60_000;
        steps(vector, deviceName).forEach((step, i) => {
          const timestamp = new Date(start + i * 1000);
          if (step.userId !== undefined)
            client.identify({
              userId: step.userId,
              anonymousId: step.anonymousId,
              traits: { plan: 'free' },
              timestamp,
            });
          client.track({
            event: step.event,
            anonymousId: step.anonymousId,
            ...(step.userId ? { userId: step.userId } : {}),
            properties: { step: i },
            timestamp,
          });
        });
        await client.flush();
        await drained(collect, flowCalls(vector));
        expect(errors).toEqual([]);
        await expectFlowInSandbox(sandbox, vector, stored);
      } finally {
        await collect.stop();
        await sandbox.stop();
      }
    });
});

const found = chromiumOrSkip();
if ('skip' in found) console.warn(`test/segment-collect-clients.test.ts: ${found.skip}`);

/** analytics.js as a site serves it: the library's UMD build and the chunks it loads beside it. */
const UMD_DIR = join(
  dirname(createRequire(import.meta.url).resolve('@segment/analytics-next/package.json')),
  'dist',
  'umd',
);
const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>shop</title>
<script src="/umd/index.js"></script></head><body><p>shop</p></body></html>`;

describe.skipIf('skip' in found)(
  '@segment/analytics-next in headless Chromium → idmerge collect → idmerge sandbox',
  () => {
    let site: Server;
    let siteUrl: string;
    beforeAll(async () => {
      site = createServer((request, response) => {
        const path = (request.url ?? '/').split('?')[0] ?? '/';
        if (path === '/') {
          response.writeHead(200, { 'Content-Type': 'text/html' });
          response.end(PAGE);
          return;
        }
        if (path === '/favicon.ico') {
          response.writeHead(204).end();
          return;
        }
        const name = path.startsWith('/umd/') ? path.slice(5) : '';
        if (!/^[\w.-]+\.js$/.test(name)) {
          response.writeHead(404).end();
          return;
        }
        try {
          const body = readFileSync(join(UMD_DIR, name));
          response.writeHead(200, { 'Content-Type': 'application/javascript' });
          response.end(body);
        } catch {
          response.writeHead(404).end();
        }
      });
      await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
      siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      await new Promise<void>((resolve) => site?.close(() => resolve()));
    });

    // The flow with a reset and two users on one device, the one that tells most; the other flows
    // run through analytics-node in segment-collect-e2e.test.ts.
    for (const batching of [false, true])
      for (const mode of MODES)
        for (const name of ['simplified/multiple-users-one-device'])
          it(`${name} in ${mode}, batching ${batching ? 'on' : 'off'}: the flow's clusters and distinct_ids`, async () => {
            const vector = vectorNamed(name);
            const { deviceName, stored } = devices(mode);
            const { sandbox, collect } = await startPair(mode);
            const browser = await launchChromium();
            try {
              const page = await browser.newPage();
              const failed: string[] = [];
              page.on('requestfailed', (request) =>
                failed.push(`${request.method()} ${request.url()}: ${request.failure()?.errorText}`),
              );
              page.on('console', (message) => {
                if (message.type() === 'error') failed.push(`console: ${message.text()}`);
              });
              await page.goto(siteUrl);
              const apiHost = `${new URL(collect.url).host}/v1`;
              await page.evaluate(
                async ({ apiHost, batching, steps }) => {
                  type Analytics = {
                    setAnonymousId(id: string): void;
                    identify(userId: string, traits: object): Promise<unknown>;
                    track(event: string, properties: object): Promise<unknown>;
                    reset(): void;
                    user(): { id(): string | null };
                  };
                  const next = (
                    window as unknown as {
                      AnalyticsNext: { AnalyticsBrowser: { load(settings: object): Promise<[Analytics]> } };
                    }
                  ).AnalyticsNext;
                  const segmentIo = {
                    apiKey: 'wk',
                    apiHost,
                    protocol: 'http',
                    ...(batching
                      ? { deliveryStrategy: { strategy: 'batching', config: { size: 4, timeout: 200 } } }
                      : {}),
                  };
                  const [analytics] = await next.AnalyticsBrowser.load({
                    writeKey: 'wk',
                    cdnSettings: { integrations: { 'Segment.io': segmentIo } },
                  });
                  for (const [i, step] of steps.entries()) {
                    if (analytics.user().id() !== (step.userId ?? null) && step.userId === undefined)
                      analytics.reset();
                    analytics.setAnonymousId(step.anonymousId);
                    if (step.userId !== undefined && analytics.user().id() !== step.userId)
                      await analytics.identify(step.userId, { plan: 'free' });
                    await analytics.track(step.event, { step: i });
                  }
                },
                { apiHost, batching, steps: steps(vector, deviceName) },
              );
              const identifies = new Set<string>();
              const calls = steps(vector, deviceName).reduce((sum, step) => {
                // analytics.js identifies once per user and device, not before every event.
                const key = `${step.userId}/${step.anonymousId}`;
                const extra = step.userId !== undefined && !identifies.has(key) ? 1 : 0;
                if (extra) identifies.add(key);
                return sum + 1 + extra;
              }, 0);
              await drained(collect, calls);
              expect(failed).toEqual([]);
              // analytics.js's own short paths: /v1/t, /v1/i one call each, or /v1/b batches.
              expect(collect.output()).toMatch(
                batching ? /"path":"\/v1\/b","status":200/ : /"path":"\/v1\/t","status":200/,
              );
              await expectFlowInSandbox(sandbox, vector, stored);
            } finally {
              await browser.close();
              await collect.stop();
              await sandbox.stop();
            }
          }, 60_000);
  },
);

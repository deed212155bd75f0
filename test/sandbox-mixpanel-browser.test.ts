import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadVectorCases } from '@idmerge/shared/test/vectors';
import { chromiumOrSkip, launchChromium } from './support/chromium.js';
import { startSandboxProcess, type SandboxProcess } from './support/sandbox-process.js';

const TOKEN = 'browser-token';
const found = chromiumOrSkip();
if ('skip' in found) console.warn(`test/sandbox-mixpanel-browser.test.ts: ${found.skip}`);

/** The library's own bundled build, as a site would serve it. */
const LIBRARY = readFileSync(
  createRequire(import.meta.url).resolve('mixpanel-browser/dist/mixpanel.umd.js'),
  'utf8',
);
const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>shop</title>
<script src="/mixpanel.umd.js"></script></head><body><p>shop</p></body></html>`;

/** Steps of a seed flow as an app calls the SDK; `device` names a browser (a new one is a new device). */
type Step =
  | { device: string; track: string }
  | { device: string; identify: string }
  | { device: string; reset: true }
  | { device: string; setProfile: Record<string, string> };

/**
 * The three Simplified seed flows as SDK calls. The devices the vectors call D1, D2 are the IDs the
 * SDK generates; they are read back from the SDK and put in place of D1, D2 in the expected clusters.
 */
const FLOWS: Record<string, { steps: Step[]; devices: Record<string, string> }> = {
  'simplified/new-user-signup': {
    devices: { D1: 'laptop' },
    steps: [
      { device: 'laptop', track: 'Page Viewed' },
      { device: 'laptop', track: 'Page Viewed' },
      { device: 'laptop', identify: 'U1' },
      { device: 'laptop', setProfile: { name: 'Ada' } },
      { device: 'laptop', track: 'Signed Up' },
    ],
  },
  'simplified/returning-user': {
    devices: { D1: 'laptop', D2: 'phone' },
    steps: [
      { device: 'laptop', track: 'Page Viewed' },
      { device: 'laptop', track: 'Page Viewed' },
      { device: 'laptop', identify: 'U1' },
      { device: 'laptop', track: 'Signed Up' },
      { device: 'phone', track: 'Page Viewed' },
      { device: 'phone', track: 'Page Viewed' },
      { device: 'phone', identify: 'U1' },
      { device: 'phone', track: 'Logged In' },
    ],
  },
  'simplified/multiple-users-one-device': {
    // D2 is the same browser after reset(): the SDK makes a new device ID, so no second user claims D1.
    devices: { D1: 'laptop', D2: 'laptop-after-reset' },
    steps: [
      { device: 'laptop', track: 'Page Viewed' },
      { device: 'laptop', identify: 'U1' },
      { device: 'laptop', track: 'Logged In' },
      { device: 'laptop', reset: true },
      { device: 'laptop', track: 'Page Viewed' },
      { device: 'laptop', track: 'Page Viewed' },
      { device: 'laptop', identify: 'U2' },
      { device: 'laptop', setProfile: { name: 'Grace' } },
      { device: 'laptop', track: 'Logged In' },
    ],
  },
};

interface Cluster {
  distinct_id: string;
  members: string[];
}

function sortClusters(clusters: Cluster[]): Cluster[] {
  return clusters
    .map((c) => ({ distinct_id: c.distinct_id, members: [...c.members].sort() }))
    .sort((a, b) => a.distinct_id.localeCompare(b.distinct_id));
}

/** A site on its own origin (127.0.0.1, another port than the sandbox's): truly cross-origin. */
async function startSite(): Promise<{ origin: string; server: Server }> {
  const server = createServer((req, res) => {
    if (req.url === '/mixpanel.umd.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(LIBRARY);
    } else if (req.url === '/' || req.url?.startsWith('/?')) {
      res.writeHead(200, { 'Content-Type': 'text/html' }).end(PAGE);
    } else if (req.url === '/favicon.ico') {
      res.writeHead(204).end();
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** Everything a page saw go wrong: failed or blocked requests, console errors, SDK error reports. */
interface Trouble {
  problems: string[];
  sandboxResponses: Array<{ status: number; allowOrigin: string | undefined; url: string }>;
}

async function openDevice(
  context: BrowserContext,
  site: string,
  sandbox: string,
  batching: boolean,
  trouble: Trouble,
  extraConfig: Record<string, unknown> = {},
) {
  const page = await context.newPage();
  page.on('requestfailed', (r) =>
    trouble.problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`),
  );
  page.on('console', (m) => {
    if (m.type() === 'error') trouble.problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => trouble.problems.push(`page error: ${e.message}`));
  page.on('response', (r) => {
    if (r.url().startsWith(sandbox)) {
      trouble.sandboxResponses.push({
        status: r.status(),
        allowOrigin: r.headers()['access-control-allow-origin'],
        url: r.url(),
      });
    }
  });
  await page.goto(`${site}/`);
  await page.evaluate(
    ({ token, apiHost, batch, extra }) =>
      new Promise<void>((resolve) => {
        const w = window as unknown as Record<string, unknown>;
        w.__reports = [];
        const mp = w.mixpanel as { init(token: string, config: Record<string, unknown>): void };
        mp.init(token, {
          api_host: apiHost,
          batch_requests: batch,
          batch_flush_interval_ms: 100,
          error_reporter: (message: string) => (w.__reports as string[]).push(message),
          loaded: () => resolve(),
          ...extra,
        });
      }),
    { token: TOKEN, apiHost: sandbox, batch: batching, extra: extraConfig },
  );
  return page;
}

/** The part of mixpanel-browser's API the flows call (the page's global `mixpanel`). */
interface MixpanelInPage {
  track(
    name: string,
    properties: Record<string, unknown>,
    optionsOrCallback?: Record<string, unknown> | ((response: unknown) => void),
  ): unknown;
  identify(id: string): unknown;
  reset(): unknown;
  people: { set(properties: Record<string, string>, callback: (response: unknown) => void): unknown };
}

/** Runs one SDK call in the page; resolves with what its callback received (when it has one). */
function runStep(page: Page, step: Step): Promise<unknown> {
  return page.evaluate((s) => {
    type Callback = (response: unknown) => void;
    const mp = (window as unknown as { mixpanel: MixpanelInPage }).mixpanel;
    const people = mp.people;
    return new Promise((resolve: Callback) => {
      if ('track' in s) mp.track(s.track, { step: s.track }, (response: unknown) => resolve(response));
      else if ('identify' in s) resolve(mp.identify(s.identify) ?? 'identified');
      else if ('reset' in s) resolve(mp.reset() ?? 'reset');
      else people.set(s.setProfile, (response: unknown) => resolve(response));
    });
  }, step);
}

const deviceIdOf = (page: Page) =>
  page.evaluate(() =>
    (window as unknown as { mixpanel: { get_property(n: string): string } }).mixpanel.get_property(
      '$device_id',
    ),
  );
const reportsOf = (page: Page) =>
  page.evaluate(() => (window as unknown as { __reports: string[] }).__reports);

async function waitFor<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf('skip' in found)('mixpanel-browser in headless Chromium against the sandbox', () => {
  let browser: Browser;
  let site: { origin: string; server: Server };
  beforeAll(async () => {
    browser = await launchChromium();
    site = await startSite();
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => site?.server.close(() => resolve()));
  });

  const vectors = new Map(loadVectorCases().map((v) => [v.name, v]));
  for (const mode of ['simplified', 'original'] as const) {
    for (const batching of [false, true]) {
      for (const [name, flow] of Object.entries(FLOWS)) {
        it(`${name} in ${mode}, batching ${batching ? 'on' : 'off'}: every callback succeeds, nothing is blocked, the clusters are the seed's`, async () => {
          const vector = vectors.get(name);
          if (vector === undefined) throw new Error(`no conformance case ${name}`);
          const sandbox: SandboxProcess = await startSandboxProcess([
            '--mode',
            mode,
            '--project-token',
            TOKEN,
          ]);
          const contexts: BrowserContext[] = [];
          try {
            const trouble: Trouble = { problems: [], sandboxResponses: [] };
            const pages = new Map<string, Page>();
            const deviceIds: Record<string, string> = {};
            const callbacks: unknown[] = [];
            let sent = 0;
            for (const step of flow.steps) {
              let page = pages.get(step.device);
              if (page === undefined) {
                const context = await browser.newContext();
                contexts.push(context);
                page = await openDevice(context, site.origin, sandbox.url, batching, trouble);
                pages.set(step.device, page);
              }
              for (const [vectorName, device] of Object.entries(flow.devices)) {
                if (device === step.device && deviceIds[vectorName] === undefined)
                  deviceIds[vectorName] = await deviceIdOf(page);
              }
              const result = await runStep(page, step);
              if ('track' in step || 'setProfile' in step) callbacks.push(result);
              if ('track' in step || 'identify' in step) sent++;
              if ('reset' in step) {
                const [vectorName] =
                  Object.entries(flow.devices).find(([, d]) => d === `${step.device}-after-reset`) ?? [];
                if (vectorName !== undefined) deviceIds[vectorName] = await deviceIdOf(page);
                pages.set(`${step.device}-after-reset`, page);
              }
            }
            // Without batching a callback gets the answer itself (1); with batching, 1 once queued.
            expect(callbacks).toEqual(callbacks.map(() => 1));
            await waitFor(
              () => sandbox.json<{ received: number; profile_updates: number }>('/_sandbox/stats'),
              (s) => s.received - s.profile_updates >= sent,
              `${sent} events`,
            );
            // Batches go out on an interval: let the profile updates (queued until identify) land too.
            await waitFor(
              () => sandbox.json<Record<string, unknown>>('/_sandbox/profiles'),
              (p) => Object.keys(p).length >= flow.steps.filter((s) => 'setProfile' in s).length,
              'profiles',
            );

            const stats = await sandbox.json<Record<string, unknown>>('/_sandbox/stats');
            // Every event stored, every profile update applied (identify also sends a $set_once of
            // the initial referrer), nothing refused.
            expect(stats).toMatchObject({ accepted: sent, rejected: 0, refused_requests: 0 });
            expect(stats.received).toBe(sent + Number(stats.profile_updates));
            for (const page of new Set(pages.values())) expect(await reportsOf(page)).toEqual([]);
            expect(trouble.problems).toEqual([]);
            expect(trouble.sandboxResponses.length).toBeGreaterThan(0);
            for (const r of trouble.sandboxResponses)
              expect(r).toMatchObject({ status: 200, allowOrigin: site.origin });
            if (batching)
              expect(trouble.sandboxResponses.every((r) => r.url.includes('verbose=1'))).toBe(true);

            const rename = (id: string) =>
              id.replace(/^\$device:(D\d)$/, (_, d: string) => `$device:${deviceIds[d]}`);
            const expected = sortClusters(
              vector.expect.clusters.map((c) => ({
                distinct_id: rename(c.distinct_id),
                members: c.members.map(rename),
              })),
            );
            const { clusters } = await sandbox.json<{ clusters: Cluster[] }>('/_sandbox/clusters');
            expect(sortClusters(clusters)).toEqual(expected);
            expect(Object.values(deviceIds).every((id) => /^[0-9a-f-]{36}$/.test(id))).toBe(true);
          } finally {
            await Promise.all(contexts.map((c) => c.close()));
            await sandbox.stop();
          }
        });
      }
    }
  }

  it('sendBeacon (text/plain bodies) and custom headers (a preflight first) reach the sandbox', async () => {
    const sandbox = await startSandboxProcess(['--mode', 'original', '--project-token', TOKEN]);
    const context = await browser.newContext();
    try {
      const trouble: Trouble = { problems: [], sandboxResponses: [] };
      const page = await openDevice(context, site.origin, sandbox.url, true, trouble);
      const sentTypes: string[] = [];
      page.on('request', (r) => {
        if (r.url().startsWith(sandbox.url)) sentTypes.push(r.headers()['content-type'] ?? '');
      });
      await page.evaluate(() => {
        const mp = (window as unknown as { mixpanel: MixpanelInPage }).mixpanel;
        mp.track('Beacon 1', {}, { transport: 'sendBeacon', send_immediately: true });
        mp.track('Beacon 2', {}, { transport: 'sendBeacon', send_immediately: true });
        mp.track('Beacon 3', {}, { transport: 'sendBeacon', send_immediately: true });
      });
      const names = await waitFor(
        async () => (await sandbox.ndjson<{ event: string }>('/_sandbox/events')).map((e) => e.event).sort(),
        (n) => n.length >= 3,
        '3 events',
      );
      expect(names).toEqual(['Beacon 1', 'Beacon 2', 'Beacon 3']);
      expect(sentTypes).toEqual(sentTypes.map(() => 'text/plain;charset=UTF-8'));
      expect(sentTypes.length).toBe(3);
      expect(sandbox.stderr()).toMatch(/ POST \/track\/ 200 records=1 accepted=1 /);
      expect(await sandbox.json('/_sandbox/stats')).toMatchObject({
        accepted: 3,
        rejected: 0,
        refused_requests: 0,
      });
      expect(trouble.problems).toEqual([]);

      // With a custom header the SDK's XHR is no longer a simple request: the browser asks first.
      const second = await openDevice(context, site.origin, sandbox.url, false, trouble, {
        xhr_headers: { 'X-Request-Source': 'test' },
      });
      const answer = await runStep(second, { device: 'laptop', track: 'With Header' });
      expect(answer).toBe(1);
      expect(await sandbox.json('/_sandbox/stats')).toMatchObject({ accepted: 4, preflights: 1 });
      expect(trouble.problems).toEqual([]);
    } finally {
      await context.close();
      await sandbox.stop();
    }
  });

  it('a logout without reset() (docs/sandbox.md): the next user cannot claim the device, and the sandbox shows it', async () => {
    const sandbox = await startSandboxProcess(['--mode', 'simplified', '--project-token', TOKEN]);
    const context = await browser.newContext();
    try {
      const trouble: Trouble = { problems: [], sandboxResponses: [] };
      const page = await openDevice(context, site.origin, sandbox.url, false, trouble);
      const device = await deviceIdOf(page);
      for (const step of [
        { track: 'Page Viewed' },
        { identify: 'U1' },
        { track: 'Logged In' },
        { identify: 'U2' },
        { track: 'Logged In' },
      ] as const) {
        await runStep(page, { device: 'laptop', ...step });
      }
      const events = await waitFor(
        () =>
          sandbox.ndjson<{ event: string; distinct_id: string; properties: Record<string, unknown> }>(
            '/_sandbox/events',
          ),
        (e) => e.length >= 5,
        '5 events',
      );
      const last = events[events.length - 1];
      expect(last).toMatchObject({ event: 'Logged In', distinct_id: 'U2' });
      expect(last?.properties.$identity_failure_reason).toBe('errAnonDistinctIdAssignedAlready');
      expect(
        sortClusters((await sandbox.json<{ clusters: Cluster[] }>('/_sandbox/clusters')).clusters),
      ).toEqual([
        { distinct_id: 'U1', members: [`$device:${device}`, 'U1'] },
        { distinct_id: 'U2', members: ['U2'] },
      ]);
      expect(trouble.problems).toEqual([]);
    } finally {
      await context.close();
      await sandbox.stop();
    }
  });
});

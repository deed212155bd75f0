import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { startIntake, type Intake, type PayloadSink } from '@idmerge/segment-destination';
import type { Payload } from '@idmerge/shared/payload';
import { startSandbox } from '@idmerge/shared/sandbox';
import { createDeadLetterList, createSender, loadMixpanelConfig } from '@idmerge/shared/sender';

const SETTINGS = { project_token: 'tok', id_merge_api: 'simplified' as const };
const AUTH = `Basic ${Buffer.from('wk:').toString('base64')}`;
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

function call(i: number, extra: Record<string, unknown> = {}) {
  return {
    event: `E${i}`,
    anonymousId: `d-${i}`,
    messageId: `m-${i}`,
    timestamp: new Date(Date.now() - 1000).toISOString(),
    ...extra,
  };
}

/** An intake whose payloads land in a list (the unit under test is the HTTP side). */
async function listIntake(sink?: PayloadSink) {
  const payloads: Payload[] = [];
  const refused: Array<{ original: unknown; reason: string }> = [];
  const intake = await startIntake({
    port: 0,
    writeKey: 'wk',
    settings: SETTINGS,
    sink:
      sink ??
      ((payload) => {
        payloads.push(payload);
        return undefined;
      }),
    reject: async (original, reason) => {
      refused.push({ original, reason });
    },
  });
  closers.push(() => intake.close());
  return { intake, payloads, refused };
}

async function post(
  intake: Intake,
  path: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
) {
  const response = await fetch(`${intake.url}${path}`, {
    method: 'POST',
    headers: { Authorization: AUTH, 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
  return {
    status: response.status,
    body: (await response.json()) as {
      success: boolean;
      message?: string;
      errors?: Array<{ index: number; message: string }>;
    },
  };
}

describe('idmerge collect: the Segment HTTP tracking API', () => {
  it('accepts each call type on its own path and runs it through the destination actions', async () => {
    const { intake, payloads } = await listIntake();
    for (const [path, body] of [
      ['/v1/track', call(1)],
      ['/v1/page', { ...call(2), name: 'Home' }],
      ['/v1/screen', { ...call(3), name: 'Main' }],
      ['/v1/identify', { ...call(4), userId: 'u-4', traits: { email: 'x@example.com' } }],
      ['/v1/alias', { ...call(5), userId: 'u-5', previousId: 'd-5' }],
      ['/v1/group', { ...call(6), userId: 'u-6', groupId: 'g-6', traits: { name: 'G' } }],
    ] as const) {
      expect(await post(intake, path, JSON.stringify(body)), path).toEqual({
        status: 200,
        body: { success: true },
      });
    }
    const names = payloads.flatMap((p) => (p.endpoint === 'import' ? [p.body.event] : []));
    expect(names).toEqual(expect.arrayContaining(['E1', 'Viewed Home', 'Viewed Main', 'Identify']));
    expect(payloads.some((p) => p.endpoint === 'groups')).toBe(true);
    expect(payloads.some((p) => p.endpoint === 'engage')).toBe(true);
  });

  it('reads gzip bodies', async () => {
    const { intake, payloads } = await listIntake();
    const result = await post(intake, '/v1/track', gzipSync(JSON.stringify(call(1))), {
      'Content-Encoding': 'gzip',
    });
    expect(result.status).toBe(200);
    expect(payloads).toHaveLength(1);
  });

  it('answers 400 saying what is wrong, and keeps the refused call', async () => {
    const { intake, refused, payloads } = await listIntake();
    expect(await post(intake, '/v1/track', '{not json')).toEqual({
      status: 400,
      body: { success: false, message: expect.stringMatching(/Invalid JSON/) },
    });
    const noName = await post(intake, '/v1/track', JSON.stringify({ ...call(1), event: undefined }));
    expect(noName.status).toBe(400);
    expect(noName.body.message).toMatch(/event/);
    expect(refused).toHaveLength(1);
    expect(refused[0]?.reason).toMatch(/event/);
    expect(payloads).toEqual([]);
  });

  it('a batch delivers the good calls and names each refused one by index', async () => {
    const { intake, payloads, refused } = await listIntake();
    const batch = [
      { ...call(0), type: 'track' },
      { ...call(1), type: 'track', anonymousId: null },
      { ...call(2), type: 'bogus' },
      { ...call(3), type: 'track' },
    ];
    const result = await post(intake, '/v1/batch', JSON.stringify({ batch }));
    expect(result.status).toBe(400);
    expect(result.body.errors?.map((e) => e.index)).toEqual([1, 2]);
    expect(result.body.errors?.[0]?.message).toMatch(/anonymousId/);
    expect(result.body.errors?.[1]?.message).toMatch(/type must be one of/);
    expect(
      payloads.map(
        (p) => (p.body as unknown as { properties: { $insert_id: string } }).properties.$insert_id,
      ),
    ).toEqual(['m-0', 'm-3']);
    expect(refused).toHaveLength(2);
  });

  it('enforces 32 KB per call and 500 KB per batch with Segment-style 400s', async () => {
    const { intake, payloads } = await listIntake();
    const big = call(1, { properties: { blob: 'x'.repeat(33 * 1024) } });
    expect(await post(intake, '/v1/track', JSON.stringify(big))).toEqual({
      status: 400,
      body: { success: false, message: expect.stringMatching(/Exceeded payload limit.*32 KB/) },
    });
    const inBatch = await post(
      intake,
      '/v1/batch',
      JSON.stringify({
        batch: [
          { ...call(0), type: 'track' },
          { ...big, type: 'track' },
        ],
      }),
    );
    expect(inBatch.status).toBe(400);
    expect(inBatch.body.errors).toEqual([
      expect.objectContaining({ index: 1, message: expect.stringMatching(/32 KB/) }),
    ]);
    const many = Array.from({ length: 20 }, (_, i) => ({
      ...call(i, { properties: { blob: 'y'.repeat(30 * 1024) } }),
      type: 'track',
    }));
    expect(await post(intake, '/v1/batch', JSON.stringify({ batch: many }))).toEqual({
      status: 400,
      body: { success: false, message: expect.stringMatching(/500 KB/) },
    });
    expect(payloads).toHaveLength(1);
  });

  it('requires the write key as the Basic-auth username; unknown paths are 404', async () => {
    const { intake } = await listIntake();
    const wrong = await post(intake, '/v1/track', JSON.stringify(call(1)), {
      Authorization: `Basic ${Buffer.from('nope:').toString('base64')}`,
    });
    expect(wrong.status).toBe(401);
    expect((await post(intake, '/v1/nothing', '{}')).status).toBe(404);
  });

  it('holds the answer while the sink applies backpressure', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { intake } = await listIntake(() => gate);
    let answered = false;
    const pending = post(intake, '/v1/track', JSON.stringify(call(1))).then((r) => {
      answered = true;
      return r;
    });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(answered).toBe(false);
    release();
    expect((await pending).status).toBe(200);
  });

  it('loses nothing when Mixpanel fails: the shared sender retries until the sandbox has every event', async () => {
    const sandbox = await startSandbox({
      port: 0,
      mode: 'simplified',
      projectToken: 'tok',
      faults: '503=0.4,429=0.2',
      seed: 3,
    });
    closers.push(() => sandbox.close());
    const config = loadMixpanelConfig({ MIXPANEL_PROJECT_TOKEN: 'tok', MIXPANEL_API_HOST: sandbox.url });
    const deadLetter = createDeadLetterList();
    const sender = createSender(config, { deadLetter, batchSize: 5, maxRetries: 30, sleep: async () => {} });
    const intake = await startIntake({
      port: 0,
      settings: SETTINGS,
      sink: (payload, original) => sender.send(payload, original),
      reject: (original, reason) => sender.reject(original, reason),
    });
    closers.push(() => intake.close());
    const batch = Array.from({ length: 40 }, (_, i) => ({ ...call(i), type: 'track' }));
    expect((await post(intake, '/v1/batch', JSON.stringify({ batch }))).status).toBe(200);
    const report = await sender.flush();
    expect(report.delivered).toBe(40);
    expect(deadLetter.entries).toEqual([]);
    const stats = (await (await fetch(`${sandbox.url}/_sandbox/stats`)).json()) as { accepted: number };
    expect(stats.accepted).toBe(40);
  });
});

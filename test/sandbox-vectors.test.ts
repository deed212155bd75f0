import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { loadVectorCases, type VectorCase } from '@idmerge/shared/test/vectors';
import { startSandboxProcess, type SandboxProcess } from './support/sandbox-process.js';

interface StoredEvent {
  ingested_distinct_id: string;
  distinct_id: string;
  properties: Record<string, unknown>;
}

/** The stored events and clusters the sandbox holds now, compared with the case's expectation. */
async function expectOutcome(sandbox: SandboxProcess, vector: VectorCase): Promise<void> {
  const stored = await sandbox.ndjson<StoredEvent>('/_sandbox/events');
  const failureKey = vector.mode === 'simplified' ? '$identity_failure_reason' : '$failure_reason';
  expect(
    stored.map((e) => ({
      ingested_distinct_id: e.ingested_distinct_id,
      distinct_id: e.distinct_id,
      ...(e.properties[failureKey] ? { failure_reason: e.properties[failureKey] } : {}),
    })),
  ).toEqual(vector.expect.events.filter((e) => !('rejected' in e)));
  expect(await sandbox.json('/_sandbox/clusters')).toEqual({
    mode: vector.mode,
    clusters: vector.expect.clusters,
  });
}

describe('the conformance cases through the sandbox (a separate process)', () => {
  for (const vector of loadVectorCases()) {
    it(`${vector.name}, through /import`, async () => {
      const sandbox = await startSandboxProcess([
        '--mode',
        vector.mode,
        '--service-account',
        'sa:secret',
        '--project-id',
        '7',
      ]);
      try {
        const response = await fetch(`${sandbox.url}/import?strict=1&project_id=7`, {
          method: 'POST',
          headers: {
            Authorization: `Basic ${Buffer.from('sa:secret').toString('base64')}`,
            'Content-Type': 'application/json',
            'Content-Encoding': 'gzip',
          },
          body: gzipSync(JSON.stringify(vector.events)),
        });
        const accepted = vector.expect.events.filter((e) => !('rejected' in e)).length;
        expect(await response.json()).toMatchObject({ num_records_imported: accepted });
        await expectOutcome(sandbox, vector);
      } finally {
        await sandbox.stop();
      }
    });

    it(`${vector.name}, through /track as the browser SDK sends it`, async () => {
      const sandbox = await startSandboxProcess(['--mode', vector.mode, '--project-token', 'tok']);
      try {
        // /track takes the last 5 days only: the case's times move to the last hour, spaced as they were.
        const events = vector.events as Array<{ event: string; properties: Record<string, unknown> }>;
        const first = Number(events[0]?.properties.time);
        const base = Math.floor(Date.now() / 1000) - 3600;
        const sent = events.map((e) => ({
          ...e,
          properties: { ...e.properties, token: 'tok', time: base + (Number(e.properties.time) - first) },
        }));
        const data = Buffer.from(JSON.stringify(sent)).toString('base64');
        const response = await fetch(`${sandbox.url}/track/?ip=1&_=${Date.now()}&verbose=1`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: 'http://127.0.0.1:1' },
          body: `data=${encodeURIComponent(data)}`,
        });
        expect(response.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:1');
        if (events.some((e) => e.event === '$merge')) {
          // $merge is taken on authenticated /import only: /track refuses it and says so.
          expect(await response.json()).toEqual({
            status: 0,
            error: expect.stringMatching(/\$merge is accepted only on authenticated \/import/),
          });
          return;
        }
        expect(await response.json()).toEqual({ status: 1, error: null });
        await expectOutcome(sandbox, vector);
      } finally {
        await sandbox.stop();
      }
    });
  }
});

describe('idmerge sandbox --data-dir (a separate process)', () => {
  it('exits cleanly on SIGTERM and comes back with the same events and clusters', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sandbox-cli-'));
    const args = ['--mode', 'simplified', '--project-token', 'tok', '--data-dir', dataDir];
    const first = await startSandboxProcess(args);
    const events = [
      { event: 'Viewed', properties: { time: 1763800000, $insert_id: 'a1', $device_id: 'D1' } },
      {
        event: 'Signed up',
        properties: { time: 1763800001, $insert_id: 'a2', $device_id: 'D1', $user_id: 'U1' },
      },
    ];
    const response = await fetch(`${first.url}/import?strict=1`, {
      method: 'POST',
      headers: { Authorization: `Basic ${Buffer.from('tok:').toString('base64')}` },
      body: JSON.stringify(events),
    });
    expect(await response.json()).toEqual({ code: 200, num_records_imported: 2, status: 'OK' });
    const before = {
      events: await first.ndjson('/_sandbox/events'),
      clusters: await first.json('/_sandbox/clusters'),
    };
    await first.stop();
    expect(first.child.exitCode).toBe(0);

    const second = await startSandboxProcess(args);
    try {
      expect({
        events: await second.ndjson('/_sandbox/events'),
        clusters: await second.json('/_sandbox/clusters'),
      }).toEqual(before);
      expect(before.clusters).toEqual({
        mode: 'simplified',
        clusters: [{ distinct_id: 'U1', members: ['$device:D1', 'U1'] }],
      });
    } finally {
      await second.stop();
    }
  });
});

describe('idmerge sandbox flags', () => {
  it('refuses a malformed --faults spec, naming the part that is wrong', async () => {
    await expect(
      startSandboxProcess(['--mode', 'simplified', '--faults', '429=0.1,boom=0.2']),
    ).rejects.toThrow(/"boom=0.2" is not KIND=PROBABILITY/);
  });
});

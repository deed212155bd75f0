import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/run-cli.js';
import { startSandboxProcess } from './support/sandbox-process.js';

type Counts<K extends string> = Record<K, number>;

const FAST_RETRIES = ['--backoff', '50,400,10,50', '--timeout-ms', '1000', '--max-retries', '30'];

/** `total` events of which every `total / invalid`-th carries an invalid device ID. */
function writeEvents(dir: string, total: number, invalid: number): { file: string; invalidIds: Set<string> } {
  const every = Math.floor(total / invalid);
  const invalidIds = new Set<string>();
  const lines: string[] = [];
  for (let i = 0; i < total; i++) {
    const bad = i % every === every - 1 && invalidIds.size < invalid;
    if (bad) invalidIds.add(`ev-${i}`);
    const properties: Record<string, unknown> = {
      time: 1763800000 + (i % 50_000),
      $insert_id: `ev-${i}`,
      $device_id: bad ? 'undefined' : `D${i % 7000}`,
      plan: 'pro',
    };
    if (i % 3 === 0) properties.$user_id = `U${i % 2000}`;
    lines.push(JSON.stringify({ event: i % 5 === 0 ? 'Purchase' : 'Page Viewed', properties }));
  }
  const file = join(dir, 'events.ndjson');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return { file, invalidIds };
}

async function importThroughFaults(
  total: number,
  invalid: number,
  sandboxArgs: string[],
  importArgs: string[] = [],
) {
  const dir = mkdtempSync(join(tmpdir(), 'import-e2e-'));
  const { file, invalidIds } = writeEvents(dir, total, invalid);
  const sandbox = await startSandboxProcess([
    '--mode',
    'simplified',
    '--project-token',
    'tok',
    '--client-timeout-ms',
    '1500',
    '--seed',
    '11',
    ...sandboxArgs,
  ]);
  try {
    const deadLetter = join(dir, 'dead.ndjson');
    const result = await runCli(
      [
        'import',
        file,
        '--mode',
        'simplified',
        '--json',
        '--dead-letter',
        deadLetter,
        ...FAST_RETRIES,
        ...importArgs,
      ],
      {
        env: { MIXPANEL_PROJECT_TOKEN: 'tok', MIXPANEL_API_HOST: sandbox.url },
      },
    );
    const report = JSON.parse(result.stdout) as Counts<
      'recordsIn' | 'delivered' | 'deadLettered' | 'retriedRequests' | 'rateLimitedWaits'
    >;
    const stats = await sandbox.json<Counts<'received' | 'accepted' | 'duplicates'>>('/_sandbox/stats');
    const dead = readFileSync(deadLetter, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    return { result, report, stats, dead, invalidIds };
  } finally {
    await sandbox.stop();
  }
}

describe('idmerge import against a faulty sandbox (separate processes)', () => {
  it('50,000 events, 100 invalid, 20% faults with Retry-After: every valid event exactly once, the invalid ones dead-lettered', async () => {
    const { result, report, stats, dead, invalidIds } = await importThroughFaults(50_000, 100, [
      '--faults',
      '429=0.06,500=0.04,503=0.04,reset=0.03,slow=0.03',
      '--retry-after',
      '1',
    ]);
    expect(result.code).toBe(2);
    expect(stats.accepted).toBe(49_900);
    expect(stats.received - stats.duplicates).toBe(49_900);
    expect(dead).toHaveLength(100);
    expect(new Set(dead.map((d) => d.record.properties.$insert_id))).toEqual(invalidIds);
    for (const entry of dead)
      expect(entry).toMatchObject({
        stage: 'validation',
        field: 'properties.$device_id',
        reason: expect.stringContaining('invalid IDs'),
      });
    expect(report.recordsIn).toBe(50_000);
    expect(report.delivered + report.deadLettered).toBe(report.recordsIn);
    expect(report.delivered).toBe(49_900);
    expect(report.retriedRequests + report.rateLimitedWaits).toBeGreaterThan(0);
  }, 240_000);

  it('429s without Retry-After back off and still deliver everything', async () => {
    const { result, report, stats, dead } = await importThroughFaults(
      6_000,
      10,
      ['--faults', '429=0.3,503=0.1'],
      ['--batch-size', '200'],
    );
    expect(result.code).toBe(2);
    expect(stats.accepted).toBe(5_990);
    expect(dead).toHaveLength(10);
    expect(report.rateLimitedWaits).toBeGreaterThan(0);
  }, 120_000);

  it('exits 0 when everything is delivered and 1 when the credentials are refused, never showing the secret', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'import-e2e-'));
    const { file } = writeEvents(dir, 300, 1);
    const clean = join(dir, 'clean.ndjson');
    writeFileSync(
      clean,
      readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => !l.includes('"undefined"'))
        .join('\n'),
    );
    const sandbox = await startSandboxProcess(['--mode', 'simplified', '--project-token', 'tok']);
    try {
      const ok = await runCli(
        ['import', clean, '--mode', 'simplified', '--dead-letter', join(dir, 'd1.ndjson')],
        {
          env: { MIXPANEL_PROJECT_TOKEN: 'tok', MIXPANEL_API_HOST: sandbox.url },
        },
      );
      expect(ok.code).toBe(0);
      expect(ok.stdout).toMatch(/delivered:\s+299/);
      const refused = await runCli(
        ['import', clean, '--mode', 'simplified', '--json', '--dead-letter', join(dir, 'd2.ndjson')],
        {
          env: { MIXPANEL_PROJECT_TOKEN: 'wrong-token-secret', MIXPANEL_API_HOST: sandbox.url },
        },
      );
      expect(refused.code).toBe(1);
      const report = JSON.parse(refused.stdout);
      expect(report).toMatchObject({
        delivered: 0,
        unsent: 299,
        stoppedBecause: expect.stringContaining('HTTP 401'),
      });
      expect(refused.stdout + refused.stderr + readFileSync(join(dir, 'd2.ndjson'), 'utf8')).not.toContain(
        'wrong-token-secret',
      );
    } finally {
      await sandbox.stop();
    }
  }, 120_000);

  it('dry run validates and counts without sending', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'import-e2e-'));
    const { file } = writeEvents(dir, 200, 2);
    const result = await runCli([
      'import',
      file,
      '--mode',
      'simplified',
      '--dry-run',
      '--dead-letter',
      join(dir, 'd.ndjson'),
    ]);
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(/dry run: 200 records, 198 valid, 2 invalid/);
  });
});

describe('idmerge import rate cap', () => {
  it('--events-per-second paces delivery', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'import-rate-'));
    const file = join(dir, 'e.ndjson');
    writeFileSync(
      file,
      Array.from({ length: 1200 }, (_, i) =>
        JSON.stringify({
          event: 'E',
          properties: { time: 1763800000, $insert_id: `r-${i}`, $device_id: 'D1' },
        }),
      ).join('\n'),
    );
    const sandbox = await startSandboxProcess(['--mode', 'simplified', '--project-token', 'tok']);
    try {
      const began = Date.now();
      const result = await runCli(
        [
          'import',
          file,
          '--mode',
          'simplified',
          '--batch-size',
          '200',
          '--events-per-second',
          '400',
          '--dead-letter',
          join(dir, 'd.ndjson'),
        ],
        { env: { MIXPANEL_PROJECT_TOKEN: 'tok', MIXPANEL_API_HOST: sandbox.url } },
      );
      expect(result.code).toBe(0);
      // 1200 events at 400/s in batches of 200: every batch after the first waits 0.5 s (2.5 s in all;
      // without the cap the whole run takes under a second).
      expect(Date.now() - began).toBeGreaterThanOrEqual(2500);
      expect((await sandbox.json<{ accepted: number }>('/_sandbox/stats')).accepted).toBe(1200);
    } finally {
      await sandbox.stop();
    }
  }, 60_000);
});

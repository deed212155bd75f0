import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadVectorCases } from '@idmerge/shared/test/vectors';
import { runCli } from './support/run-cli.js';

describe('idmerge resolve', () => {
  for (const vector of loadVectorCases()) {
    it(`${vector.name}: from a file (JSON array) and from standard input (NDJSON)`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'idmerge-resolve-'));
      const file = join(dir, 'events.json');
      writeFileSync(file, JSON.stringify(vector.events));
      const fromFile = await runCli(['resolve', '--mode', vector.mode, '--input', file]);
      const fromStdin = await runCli(['resolve', '--mode', vector.mode], {
        input: vector.events.map((e) => JSON.stringify(e)).join('\n'),
      });
      for (const result of [fromFile, fromStdin]) {
        expect(result.stderr).toBe('');
        expect(result.code).toBe(0);
        const document = JSON.parse(result.stdout);
        expect(document.mode).toBe(vector.mode);
        expect(document.events).toEqual(
          vector.expect.events.map((expected, index) => ({ index, ...expected })),
        );
        expect(document.clusters).toEqual(vector.expect.clusters);
      }
    });
  }

  it('reports rejected events with the reason', async () => {
    const result = await runCli(['resolve', '--mode', 'simplified'], {
      input: JSON.stringify({
        event: 'A',
        properties: { time: 1763800000, $insert_id: 'x1', $device_id: 'null' },
      }),
    });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).events).toEqual([
      {
        index: 0,
        rejected: expect.stringMatching(
          /^properties\.\$device_id: "null" is on Mixpanel's list of invalid IDs/,
        ),
      },
    ]);
  });

  it('fails with the file and line on unreadable input', async () => {
    const bad = await runCli(['resolve', '--mode', 'original'], {
      input: '{"event":"A","properties":{}}\n{oops\n',
    });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/standard input, line 2: not valid JSON/);
    const missing = await runCli(['resolve', '--mode', 'original', '--input', '/nonexistent/events.ndjson']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/\/nonexistent\/events\.ndjson: cannot read it \(no such file\)/);
  });

  it('refuses an unknown mode and explains --help', async () => {
    const result = await runCli(['resolve', '--mode', 'hybrid']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/expected simplified or original, got "hybrid"/);
    const help = await runCli(['resolve', '--help']);
    expect(help.stdout).toMatch(/--mode <mode>/);
  });
});

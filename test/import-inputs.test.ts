import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/run-cli.js';
import { startFaultProxy } from './support/fault-proxy.js';
import { startSandboxProcess, type SandboxProcess } from './support/sandbox-process.js';

const TOKEN = 'inputs-token';

interface DeadEntry {
  record: { file?: string; line?: number; text?: string; bytesBase64?: string } & Record<string, unknown>;
  reason: string;
}

const event = (i: number, run: string) => ({
  event: 'Opened',
  properties: { time: 1763800000 + i, $insert_id: `${run}-${i}`, $device_id: `D${i % 50}` },
});
const lines = (count: number, run: string) =>
  Array.from({ length: count }, (_, i) => JSON.stringify(event(i, run)));
const csvOf = (count: number, run: string) =>
  `event,time,$insert_id,$device_id\n${Array.from({ length: count }, (_, i) => `Opened,${1763800000 + i},${run}-${i},D${i % 50}`).join('\n')}\n`;

let sandbox: SandboxProcess;
beforeAll(async () => {
  sandbox = await startSandboxProcess(['--mode', 'simplified', '--project-token', TOKEN]);
});
afterAll(async () => {
  await sandbox.stop();
});

const accepted = async () => (await sandbox.json<{ accepted: number }>('/_sandbox/stats')).accepted;

async function importFiles(files: string[], deadLetter: string, env: Record<string, string> = {}) {
  return runCli(['import', ...files, '--dead-letter', deadLetter], {
    env: { MIXPANEL_PROJECT_TOKEN: TOKEN, MIXPANEL_API_HOST: sandbox.url, ...env },
  });
}

const deadEntries = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as DeadEntry);

describe('idmerge import reads what users have', () => {
  it('an NDJSON file with a BOM and bad lines: each bad line is dead-lettered with its number, every other event is delivered', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'import-inputs-'));
    const good = lines(1000, 'bom');
    const deep = 5000;
    const nested = `${'{"a":'.repeat(deep)}1${'}'.repeat(deep)}`;
    const parts: Buffer[] = [
      Buffer.from(`\ufeff${good.slice(0, 400).join('\n')}\n`),
      Buffer.from('{"event":"Opened","properties":{"time":17638\n'), // line 401: truncated
      Buffer.from('{"event":"Op\u0000ened"}\n'), // line 402: a NUL byte
      Buffer.from('<<garbage>> not json at all\n'), // line 403
      Buffer.concat([Buffer.from('{"event":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n')]), // line 404: not UTF-8
      Buffer.from('\n'), // line 405: blank, skipped
      // line 406: nested 5,000 deep (a stack overflow for recursive code)
      Buffer.from(
        `{"event":"Deep","properties":{"time":1763800000,"$insert_id":"deep","$device_id":"D1","x":${nested}}}\n`,
      ),
      // line 407: a poison time
      Buffer.from(
        `${JSON.stringify({ event: 'E', properties: { time: 1e20, $insert_id: 'poison', $device_id: 'D1' } })}\n`,
      ),
      Buffer.from(good.slice(400).join('\n')), // no final newline
    ];
    const file = join(dir, 'events.ndjson');
    writeFileSync(file, Buffer.concat(parts));
    const deadLetter = join(dir, 'dead.ndjson');
    const before = await accepted();
    const result = await importFiles([file], deadLetter);
    expect(result.code, result.stderr).toBe(2);
    const delivered = (await accepted()) - before;
    // The deep event may be delivered or refused (it is valid JSON); nothing else is lost.
    const dead = deadEntries(deadLetter);
    expect(delivered + dead.length).toBe(1006);
    expect(delivered).toBeGreaterThanOrEqual(1000);
    const byLine = new Map(dead.filter((d) => d.record.line !== undefined).map((d) => [d.record.line, d]));
    expect([...byLine.keys()].sort()).toEqual([401, 402, 403, 404]);
    expect(byLine.get(401)?.reason).toMatch(/line 401: not valid JSON/);
    expect(byLine.get(401)?.record.text).toBe('{"event":"Opened","properties":{"time":17638');
    expect(byLine.get(404)?.reason).toMatch(/line 404: not valid UTF-8/);
    expect(Buffer.from(byLine.get(404)?.record.bytesBase64 ?? '', 'base64')).toEqual(
      Buffer.concat([Buffer.from('{"event":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]),
    );
    expect(dead.some((d) => JSON.stringify(d.record).includes('poison'))).toBe(true);
    expect(statSync(deadLetter).mode & 0o777).toBe(0o600);
  }, 60_000);

  it.each([
    ['events.ndjson.gz', (run: string) => gzipSync(lines(300, run).join('\n'))],
    ['events.json.gz', (run: string) => gzipSync(`\ufeff[${lines(300, run).join(',')}]`)],
    ['events.csv.gz', (run: string) => gzipSync(`\ufeff${csvOf(300, run)}`)],
    // gzip without .gz in its name: found by its magic bytes
    ['events.ndjson', (run: string) => gzipSync(lines(300, run).join('\n'))],
    ['events.csv', (run: string) => gzipSync(csvOf(300, run))],
  ])('%s (gzip, with or without a BOM) is read whole', async (name, content) => {
    const dir = mkdtempSync(join(tmpdir(), 'import-gz-'));
    const file = join(dir, name);
    writeFileSync(file, content(name.replace(/[^a-z]/g, '') + (name.endsWith('.gz') ? 'gz' : 'magic')));
    const before = await accepted();
    const result = await importFiles([file], join(dir, 'dead.ndjson'));
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect((await accepted()) - before).toBe(300);
  });

  it('a CSV row that does not parse is dead-lettered with its line; a JSON array cut short keeps what came before', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'import-broken-'));
    const csv = join(dir, 'events.csv');
    const rows = csvOf(100, 'csvbad').split('\n');
    rows.splice(51, 0, 'Opened,1763800000,extra,columns,here'); // line 52: five fields under four columns
    writeFileSync(csv, rows.join('\n'));
    const json = join(dir, 'events.json');
    writeFileSync(json, `[${lines(50, 'cut').join(',')},{"event":"Op`);
    const deadLetter = join(dir, 'dead.ndjson');
    const before = await accepted();
    const result = await importFiles([csv, json], deadLetter);
    expect(result.code, result.stderr).toBe(2);
    const dead = deadEntries(deadLetter);
    expect(dead.map((d) => d.reason)).toEqual([
      expect.stringMatching(/events\.csv: line 52: not valid CSV/),
      expect.stringMatching(/events\.json: not a valid JSON array .*the rest of the file was not/),
    ]);
    // Every CSV row around the bad one, and the JSON array's records before the cut.
    expect((await accepted()) - before).toBe(150);
  });

  it('a server that echoes request headers never puts a secret (3 characters here) or its Basic-auth encoding in the dead-letter file or output', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'import-echo-'));
    const file = join(dir, 'events.ndjson');
    writeFileSync(file, lines(10, 'echo').join('\n'));
    const proxy = await startFaultProxy(sandbox.url);
    try {
      await proxy.set('echo');
      const deadLetter = join(dir, 'dead.ndjson');
      const result = await runCli(['import', file, '--dead-letter', deadLetter], {
        env: { MIXPANEL_API_SECRET: 'q7z', MIXPANEL_API_HOST: proxy.url },
      });
      expect(result.code).toBe(2);
      const written = readFileSync(deadLetter, 'utf8');
      expect(written).toMatch(/you sent/);
      const encoded = Buffer.from('q7z:').toString('base64');
      for (const text of [written, result.stdout, result.stderr]) {
        expect(text).not.toContain('q7z');
        expect(text).not.toContain(encoded);
      }
    } finally {
      await proxy.stop();
    }
  });
});

import { spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildCli, currentEntry, isBuildCurrent } from '../scripts/build-cli.mjs';

const scratch = mkdtempSync(join(tmpdir(), 'idmerge-build-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A checkout's source layout, just enough for the staleness check. */
function fakeCheckout(): string {
  const root = mkdtempSync(join(scratch, 'root-'));
  for (const dir of [
    'cli/src',
    'shared/src',
    'connectors/segment-destination/src',
    'connectors/warehouse-sync/src',
  ])
    mkdirSync(join(root, dir), { recursive: true });
  mkdirSync(join(root, 'scripts'));
  for (const file of [
    'cli/src/main.ts',
    'shared/src/index.ts',
    'cli/package.json',
    'shared/package.json',
    'pnpm-lock.yaml',
    'scripts/build-cli.mjs',
  ])
    writeFileSync(join(root, file), '');
  return root;
}

function setTime(path: string, seconds: number): void {
  utimesSync(path, seconds, seconds);
}

describe('the compiled idmerge program (scripts/build-cli.mjs)', () => {
  it('builds an entry that runs on bare Node from any working directory, third-party packages loaded from the install', async () => {
    const outdir = join(scratch, 'dist');
    const entry = await buildCli(outdir);
    expect(currentEntry(outdir)).toBe(entry);
    const source = readFileSync(entry, 'utf8');
    expect(source).toMatch(/from ?"\.\.\/\.\.\/.*node_modules\/.*commander/);
    const run = spawnSync(process.execPath, [entry, 'resolve', '--mode', 'simplified'], {
      cwd: tmpdir(),
      input:
        '{"event":"a","properties":{"time":1700000000,"$device_id":"d1","$user_id":"u1","$insert_id":"i1"}}\n',
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toMatchObject({
      mode: 'simplified',
      clusters: [{ distinct_id: 'u1', members: ['$device:d1', 'u1'] }],
    });
  });

  it('compiles zod in, with its English messages only, and still reports what is wrong in English', async () => {
    const outdir = join(scratch, 'dist-zod');
    const entry = await buildCli(outdir);
    const built = readdirSync(outdir)
      .filter((name) => name.endsWith('.js'))
      .map((name) => readFileSync(join(outdir, name), 'utf8'))
      .join('\n');
    expect(built).not.toMatch(/from ?"[^"]*node_modules[^"]*zod/);
    expect(built).toContain('Invalid input: expected');
    expect(built).not.toContain('Ungültige Eingabe');
    // ASCII only (comments stripped, strings escaped): V8 keeps the modules' text at a byte a character.
    expect([...built].every((character) => character.charCodeAt(0) < 0x80)).toBe(true);
    const definition = join(outdir, 'bad.yaml');
    writeFileSync(
      definition,
      'name: x\nmode: sideways\nsource: { type: duckdb, table: t, primary_key: id }\n' +
        'mapping: { type: events, event: e, time: t, user_id: u }\n',
    );
    const run = spawnSync(process.execPath, [entry, 'sync', '--config', definition, '--dry-run'], {
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/mode: Invalid option: expected one of "simplified"\|"original"/);
  });

  it('rebuilding unchanged sources rewrites nothing, and a changed build keeps the old files a running program may still load', async () => {
    const outdir = join(scratch, 'dist');
    const first = await buildCli(outdir);
    const before = readdirSync(outdir).sort();
    const second = await buildCli(outdir);
    expect(second).toBe(first);
    expect(readdirSync(outdir).sort()).toEqual(before);
    // A file of an older build is kept (pruned only when no build has named it for a week).
    writeFileSync(join(outdir, 'chunk-OLDBUILD.js'), 'export {};\n');
    await buildCli(outdir);
    expect(readdirSync(outdir)).toContain('chunk-OLDBUILD.js');
    setTime(join(outdir, 'chunk-OLDBUILD.js'), Date.now() / 1000 - 8 * 24 * 3600);
    await buildCli(outdir);
    expect(readdirSync(outdir)).not.toContain('chunk-OLDBUILD.js');
  });

  it('is current until any source (or the lockfile) is newer than the build, and never without a complete build', () => {
    const root = fakeCheckout();
    const outdir = join(root, 'cli', 'dist');
    expect(isBuildCurrent(outdir, root)).toBe(false);
    mkdirSync(outdir);
    writeFileSync(join(outdir, 'main-ABC.js'), '');
    writeFileSync(join(outdir, 'current.json'), JSON.stringify({ entry: 'main-ABC.js' }));
    const now = Math.floor(Date.now() / 1000);
    for (const file of [
      'cli/src/main.ts',
      'shared/src/index.ts',
      'cli/package.json',
      'shared/package.json',
      'pnpm-lock.yaml',
      'scripts/build-cli.mjs',
    ])
      setTime(join(root, file), now - 100);
    setTime(join(outdir, 'current.json'), now - 50);
    expect(isBuildCurrent(outdir, root)).toBe(true);

    mkdirSync(join(root, 'connectors', 'warehouse-sync', 'src', 'sources'));
    const edited = join(root, 'connectors', 'warehouse-sync', 'src', 'sources', 'duckdb.ts');
    writeFileSync(edited, '');
    setTime(edited, now - 10);
    expect(isBuildCurrent(outdir, root)).toBe(false);

    // Tests are not part of the program.
    setTime(edited, now - 100);
    const test = join(root, 'shared', 'src', 'model.test.ts');
    writeFileSync(test, '');
    setTime(test, now);
    expect(isBuildCurrent(outdir, root)).toBe(true);

    setTime(join(root, 'pnpm-lock.yaml'), now);
    expect(isBuildCurrent(outdir, root)).toBe(false);

    setTime(join(root, 'pnpm-lock.yaml'), now - 100);
    rmSync(join(outdir, 'main-ABC.js'));
    expect(isBuildCurrent(outdir, root)).toBe(false);
  });
});

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('the collect entry (@idmerge/segment-destination/collect)', () => {
  it('loads the intake without the Segment Actions destination (actions-core stays unloaded)', () => {
    // In a fresh process: what this test process loaded says nothing.
    const script = `
      import { createRequire } from 'node:module';
      const entry = await import(${JSON.stringify(join(import.meta.dirname, 'index.ts'))});
      const whole = process.argv[1] === 'whole' ? await import(${JSON.stringify(join(import.meta.dirname, '..', 'index.ts'))}) : undefined;
      const loaded = Object.keys(createRequire(import.meta.url).cache);
      console.log(JSON.stringify({
        startCollect: typeof entry.startCollect,
        whole: whole === undefined ? null : typeof whole.startCollect,
        actionsCore: loaded.some((path) => path.includes('actions-core')),
      }));`;
    const run = (arg: string) => {
      const child = spawnSync(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', script, arg],
        {
          encoding: 'utf8',
          cwd: import.meta.dirname,
        },
      );
      expect(child.stderr).toBe('');
      return JSON.parse(child.stdout) as { startCollect: string; whole: string | null; actionsCore: boolean };
    };
    expect(run('intake')).toEqual({ startCollect: 'function', whole: null, actionsCore: false });
    // The check can see actions-core: the package's main entry loads it.
    expect(run('whole')).toEqual({ startCollect: 'function', whole: 'function', actionsCore: true });
  });
});

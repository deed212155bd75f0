import { describe, expect, it } from 'vitest';
import { programFile } from './worker-entry.js';

describe('programFile', () => {
  it('names the compiled program or its launcher, which a worker thread can start again', () => {
    expect(programFile(['node', '/opt/idmerge/cli/bin/idmerge.mjs', 'sync'])).toBe(
      '/opt/idmerge/cli/bin/idmerge.mjs',
    );
    expect(programFile(['node', '/opt/idmerge/cli/dist/main-ABC.js'])).toBe(
      '/opt/idmerge/cli/dist/main-ABC.js',
    );
  });

  it('names the build the launcher loaded, not whatever is current on disk', () => {
    const launched = '/opt/idmerge/cli/dist/main-OLD.js';
    expect(programFile(['node', '/opt/idmerge/cli/bin/idmerge.mjs', 'schedule'], launched)).toBe(launched);
  });

  it('names none when the program runs from TypeScript sources, so the work stays in this thread', () => {
    expect(programFile(['node', '/opt/idmerge/cli/src/main.ts', 'sync'])).toBeUndefined();
    expect(programFile(['node'])).toBeUndefined();
  });
});

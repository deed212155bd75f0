import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StateStore, type SyncState } from '../src/state.js';

describe('the state store', () => {
  it('writes a checkpoint in the background as save writes it: 0600, read back the same', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wh-state-'));
    // A temporary file an older version left readable by others is made private again.
    writeFileSync(join(dir, 'state.json.tmp'), '{}', { mode: 0o644 });
    const store = new StateStore(dir);
    const state: SyncState = {
      completedRuns: 2,
      bound: '2025-11-22T08:00:00.000Z',
      inProgress: { upTo: '2025-11-23T00:00:00.000Z', position: { cursor: '2025-11-22', key: 'u1' } },
    };
    const written = store.saveInBackground(state);
    // Serialized at the call: a change made while the file is written is not in it.
    state.completedRuns = 3;
    await written;
    expect(store.load()).toEqual({ ...state, completedRuns: 2 });
    expect(statSync(join(dir, 'state.json')).mode & 0o777).toBe(0o600);
    store.save({ ...state, completedRuns: 2 });
    const bySave = readFileSync(join(dir, 'state.json'), 'utf8');
    await store.saveInBackground({ ...state, completedRuns: 2 });
    expect(readFileSync(join(dir, 'state.json'), 'utf8')).toBe(bySave);
  });
});

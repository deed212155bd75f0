import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fingerprint, ProfileHashes } from '../src/profile-hashes.js';

const free = fingerprint({ plan: 'free' });

describe('ProfileHashes: synced keys and their IDs, for deletes', () => {
  it('records the ID each key was sent as, across restarts and compaction', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wh-hashes-ids-'));
    const hashes = new ProfileHashes(dir);
    hashes.set('m1', free, 'alice');
    hashes.set('bob', free, 'bob');
    hashes.commit();
    // The ID is written only when it is not the key itself.
    expect(readFileSync(join(dir, 'profile-hashes.tsv'), 'utf8')).toBe(
      `"m1"\t"alice"\t${free}\n"bob"\t\t${free}\n`,
    );
    const reopened = new ProfileHashes(dir);
    expect([...reopened.syncedKeys()]).toEqual([
      ['m1', 'alice'],
      ['bob', 'bob'],
    ]);
    reopened.compact();
    expect([...new ProfileHashes(dir).syncedKeys()]).toEqual([
      ['m1', 'alice'],
      ['bob', 'bob'],
    ]);
  });

  it('a forgotten hash keeps the key synced; a removed key leaves, even after a crash', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wh-hashes-removed-'));
    const hashes = new ProfileHashes(dir);
    hashes.set('a', free, 'A');
    hashes.set('b', free);
    hashes.set('c', free);
    hashes.commit();
    hashes.forget('a'); // refused: sent again next run, and still deleted if it leaves the source
    hashes.remove('b'); // its $delete was accepted
    hashes.commit();
    appendFileSync(join(dir, 'profile-hashes.tsv'), '"c"\t"C'); // cut short by a crash
    const reopened = new ProfileHashes(dir);
    expect(reopened.unchanged('a', free)).toBe(false);
    expect(reopened.isSynced('a')).toBe(true);
    expect(reopened.isSynced('b')).toBe(false);
    expect([...reopened.syncedKeys()]).toEqual([
      ['a', 'A'],
      ['c', 'c'],
    ]);
    expect(reopened.syncedCount).toBe(2);
    reopened.compact();
    expect([...new ProfileHashes(dir).syncedKeys()]).toEqual([
      ['a', 'A'],
      ['c', 'c'],
    ]);
  });

  it("reads an older version's lines (no ID) as keys whose ID is unknown until they are read again", () => {
    const dir = mkdtempSync(join(tmpdir(), 'wh-hashes-legacy-'));
    appendFileSync(join(dir, 'profile-hashes.tsv'), `"m1"\t${free}\n"m2"\t${free}\n"m3"\t-\n`);
    const hashes = new ProfileHashes(dir);
    // m3's hash was forgotten (a refused delivery): it may exist in Mixpanel, so it stays synced.
    expect([...hashes.syncedKeys()]).toEqual([
      ['m1', null],
      ['m2', null],
      ['m3', null],
    ]);
    expect(hashes.unchanged('m1', free, 'alice')).toBe(true);
    hashes.commit();
    expect([...new ProfileHashes(dir).syncedKeys()]).toEqual([
      ['m1', 'alice'],
      ['m2', null],
      ['m3', null],
    ]);
  });
});

import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { collectionOnHeapGrowth } from './index.js';

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

/** Counts V8's full collections from now on (as Node reports them, a little after each). */
function majorCollections(): { count: () => number; stop: () => void } {
  let count = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries())
      if (
        (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ===
        constants.NODE_PERFORMANCE_GC_MAJOR
      )
        count++;
  });
  observer.observe({ entryTypes: ['gc'] });
  return { count: () => count, stop: () => observer.disconnect() };
}

describe('collection on heap growth', () => {
  it('runs a full collection once the heap grew by the margin, without --expose-gc', async () => {
    const majors = majorCollections();
    const kept: number[][] = [];
    try {
      const check = collectionOnHeapGrowth(8 * 1024 * 1024);
      await settle();
      const before = majors.count();
      check();
      await settle();
      expect(majors.count() - before).toBe(0); // nothing grew: no collection
      // ~19 MB that stays alive, in arrays large enough for V8 to put them in old space at once
      for (let i = 0; i < 8; i++) kept.push(new Array<number>(300_000).fill(i));
      await settle();
      const grown = majors.count(); // V8 may have collected on its own meanwhile: all of it stays alive
      check();
      await settle();
      expect(majors.count() - grown).toBe(1);
      check(); // the margin counts from what the collection left: no second one
      await settle();
      expect(majors.count() - grown).toBe(1);
    } finally {
      majors.stop();
    }
    expect(kept).toHaveLength(8);
  });
});

describe('collection on heap growth, young generation', () => {
  it('does not count the young generation: garbage that dies young triggers nothing', async () => {
    const majors = majorCollections();
    const youngUsed = () =>
      getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_used_size ?? 0;
    try {
      await settle();
      const check = collectionOnHeapGrowth(512 * 1024);
      const youngBefore = youngUsed();
      const before = majors.count();
      let length = 0;
      // ~1 MB of short-lived strings, fewer than V8's young generation holds before its minor collection
      for (let i = 0; i < 8_000 && youngUsed() < youngBefore + 1024 * 1024; i++)
        length += JSON.stringify({ i, text: `row ${i}` }).length;
      expect(youngUsed() - youngBefore).toBeGreaterThan(512 * 1024); // the heap as a whole grew past the margin
      check();
      await settle();
      expect(majors.count() - before).toBe(0);
      expect(length).toBeGreaterThan(0);
    } finally {
      majors.stop();
    }
  });
});

describe('stopYoungGenerationGrowth, resumeYoungGenerationGrowth', () => {
  // The setting is process-wide, so each case runs in its own process.
  const probe = fileURLToPath(new URL('../../test/fixtures/young-generation-probe.ts', import.meta.url));
  const youngGenerationBytes = (...args: string[]) =>
    Number(execFileSync(process.execPath, ['--import', 'tsx', probe, ...args], { encoding: 'utf8' }).trim());

  it('keeps the young generation at its starting size while records stay alive in a queue', () => {
    const grown = youngGenerationBytes();
    const held = youngGenerationBytes('held');
    expect(grown).toBeGreaterThanOrEqual(16 * 1024 * 1024); // V8 grows it under this load
    expect(held).toBeLessThanOrEqual(4 * 1024 * 1024);
  });

  it('lets it grow again once resumed', () => {
    expect(youngGenerationBytes('resumed')).toBeGreaterThanOrEqual(16 * 1024 * 1024);
  });
});

describe('limitOldGenerationGrowth', () => {
  // Process-wide as well: each case in its own process.
  const probe = fileURLToPath(new URL('../../test/fixtures/old-generation-probe.ts', import.meta.url));
  const largestOldSpace = (...args: string[]) =>
    Number(execFileSync(process.execPath, ['--import', 'tsx', probe, ...args], { encoding: 'utf8' }).trim());

  it('keeps old space near what is alive while short-lived records pass through it', () => {
    const unlimited = largestOldSpace();
    const limited = largestOldSpace('100');
    expect(limited).toBeLessThan(unlimited * 0.7);
  });
});

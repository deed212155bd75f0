import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { collectionOnHeapGrowth } from './index.js';

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('collection on heap growth', () => {
  it('runs a full collection once the heap grew by the margin, without --expose-gc', async () => {
    let majors = 0;
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries())
        if (
          (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ===
          constants.NODE_PERFORMANCE_GC_MAJOR
        )
          majors++;
    });
    observer.observe({ entryTypes: ['gc'] });
    const kept: string[][] = [];
    try {
      const check = collectionOnHeapGrowth(8 * 1024 * 1024);
      await settle();
      const before = majors;
      check();
      await settle();
      expect(majors - before).toBe(0); // nothing grew: no collection
      // ~16 MB that stays alive (in old space, so no minor collection takes it away)
      for (let i = 0; i < 16; i++) kept.push(Array.from({ length: 16_384 }, (_, j) => `${i}:${j}`));
      check();
      await settle();
      expect(majors - before).toBe(1);
      check(); // the margin counts from what the collection left: no second one
      await settle();
      expect(majors - before).toBe(1);
    } finally {
      observer.disconnect();
    }
    expect(kept).toHaveLength(16);
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

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

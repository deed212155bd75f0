import { constants, PerformanceObserver } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { periodicCollection } from './index.js';

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('periodic collection', () => {
  it('runs a full collection every N units, without --expose-gc', async () => {
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
    try {
      const tick = periodicCollection(3);
      await settle();
      const before = majors;
      tick();
      tick();
      await settle();
      expect(majors - before).toBe(0); // two units: no collection yet
      tick();
      await settle();
      expect(majors - before).toBe(1); // the third unit runs one full collection
    } finally {
      observer.disconnect();
    }
  });
});

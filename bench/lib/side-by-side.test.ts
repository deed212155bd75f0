import { describe, expect, it } from 'vitest';
import { isValidRun, median, pairRatios, resultLine, type ToolRun } from './side-by-side.js';

const run = (seconds: number, peakRssMb: number, unique = 1000, exitCode: number | null = 0): ToolRun => ({
  seconds,
  peakRssMb,
  unique,
  duplicates: 0,
  exitCode,
});

describe('side-by-side arithmetic', () => {
  it('medians of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('a run is valid only when every event reached the sink exactly once and the tool exited 0', () => {
    expect(isValidRun(1000, run(1, 100))).toBe(true);
    expect(isValidRun(1000, run(1, 100, 999))).toBe(false);
    expect(isValidRun(1000, run(1, 100, 1001))).toBe(false);
    expect(isValidRun(1000, run(1, 100, 1000, 1))).toBe(false);
  });

  it('ratios are per pair, and the last line holds the medians', () => {
    const summary = {
      events: 1000,
      ours: [run(1, 100), run(2, 120), run(1, 110)],
      peer: [run(4, 300), run(4, 280), run(5, 320)],
    };
    expect(pairRatios(summary)).toEqual([4, 2, 5]);
    expect(JSON.parse(resultLine(summary))).toEqual({
      events: 1000,
      ours_eps: 1000,
      peer_eps: 250,
      ratio: 4,
      ours_rss_mb: 110,
      peer_rss_mb: 300,
      valid: true,
    });
    expect(JSON.parse(resultLine({ ...summary, peer: [run(4, 300, 10)] })).valid).toBe(false);
  });
});

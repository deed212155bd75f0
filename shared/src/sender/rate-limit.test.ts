import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limit.js';

function clock() {
  let now = 0;
  const waits: number[] = [];
  return {
    now: () => now,
    sleep: async (ms: number) => {
      waits.push(ms);
      now += ms;
    },
    waits,
  };
}

describe('RateLimiter', () => {
  it('paces requests to an events-per-second cap', async () => {
    const c = clock();
    const limiter = new RateLimiter({ eventsPerSecond: 1000 }, c.now, c.sleep);
    await limiter.acquire(2000, 0); // first request goes at once and books 2 s
    await limiter.acquire(2000, 0);
    await limiter.acquire(500, 0);
    expect(c.waits).toEqual([2000, 2000]);
    expect(c.now()).toBe(4000);
  });

  it('paces to a bytes-per-minute cap, whichever cap is tighter', async () => {
    const c = clock();
    const limiter = new RateLimiter(
      { eventsPerSecond: 1_000_000, bytesPerMinute: 60_000_000 },
      c.now,
      c.sleep,
    );
    await limiter.acquire(10, 10_000_000); // 10 MB at 60 MB/min books 10 s
    await limiter.acquire(10, 1_000_000);
    expect(c.waits).toEqual([10_000]);
  });

  it('never waits without caps', async () => {
    const c = clock();
    const limiter = new RateLimiter({}, c.now, c.sleep);
    for (let i = 0; i < 5; i++) await limiter.acquire(2000, 10_000_000);
    expect(c.waits).toEqual([]);
  });
});

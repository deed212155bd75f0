import { afterEach, describe, expect, it, vi } from 'vitest';
import { createIdentityModel } from './index.js';
import { RecentClock } from './recent-clock.js';

describe('RecentClock', () => {
  it('reads the clock once per 1024 uses, and again on refresh', () => {
    let now = 1000;
    const read = vi.fn(() => now);
    const clock = new RecentClock(read);
    expect(clock.recent()).toBe(1000);
    now = 2000;
    for (let i = 1; i < 1024; i++) expect(clock.recent()).toBe(1000);
    expect(read).toHaveBeenCalledTimes(1);
    expect(clock.recent()).toBe(2000);
    expect(read).toHaveBeenCalledTimes(2);
    expect(clock.refresh()).toBe(false);
    now = 3000;
    expect(clock.refresh()).toBe(true);
    expect(clock.recent()).toBe(3000);
  });
});

describe('the identity model on the system clock', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  const event = (i: number, timeMs: number) => ({
    event: 'A',
    properties: { time: timeMs / 1000, $insert_id: `c${i}`, $user_id: 'U1' },
  });

  it('reads Date.now about once per thousand events', () => {
    const now = vi.spyOn(Date, 'now').mockReturnValue(Date.UTC(2026, 0, 1));
    const model = createIdentityModel('simplified');
    for (let i = 0; i < 5000; i++) model.ingest(event(i, Date.UTC(2025, 11, 31)));
    expect(model.stats().events).toBe(5000);
    expect(now.mock.calls.length).toBeLessThanOrEqual(5);
  });

  it('checks "one hour ahead" against a fresh reading before rejecting', () => {
    const start = Date.UTC(2026, 0, 1);
    const now = vi.spyOn(Date, 'now').mockReturnValue(start);
    const model = createIdentityModel('simplified');
    expect(model.ingest(event(0, start)).status).toBe('accepted');
    now.mockReturnValue(start + 2 * 3600_000); // two hours later: the kept reading is stale
    expect(model.ingest(event(1, start + 2.5 * 3600_000)).status).toBe('accepted');
    const tooLate = model.ingest(event(2, start + 3.5 * 3600_000));
    expect(tooLate.status === 'rejected' && tooLate.violations.map((v) => v.field)).toEqual([
      'properties.time',
    ]);
  });

  it('reads a clock the caller gives for every event', () => {
    const clock = vi.fn(() => Date.UTC(2026, 0, 1));
    const model = createIdentityModel('simplified', { nowMs: clock });
    for (let i = 0; i < 10; i++) model.ingest(event(i, Date.UTC(2025, 11, 31)));
    expect(clock).toHaveBeenCalledTimes(10);
  });
});

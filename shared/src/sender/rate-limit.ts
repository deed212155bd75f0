/**
 * Paces requests so a sync stays inside a project's quota: at most `eventsPerSecond` records and
 * `bytesPerMinute` uncompressed bytes, shared by every concurrent request.
 */
export class RateLimiter {
  private nextFreeMs = 0;

  constructor(
    private readonly limits: { eventsPerSecond?: number; bytesPerMinute?: number },
    private readonly now: () => number,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}

  async acquire(records: number, bytes: number): Promise<void> {
    const { eventsPerSecond, bytesPerMinute } = this.limits;
    if (eventsPerSecond === undefined && bytesPerMinute === undefined) return;
    const costMs = Math.max(
      eventsPerSecond ? (records / eventsPerSecond) * 1000 : 0,
      bytesPerMinute ? (bytes / bytesPerMinute) * 60_000 : 0,
    );
    const now = this.now();
    const start = Math.max(now, this.nextFreeMs);
    this.nextFreeMs = start + costMs;
    if (start > now) await this.sleep(start - now);
  }
}

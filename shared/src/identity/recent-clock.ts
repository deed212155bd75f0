/** After this many readings from the cache, recent() reads the system clock again. */
const REFRESH_EVERY = 1024;

/**
 * The system clock for the "at most one hour in the future" rule, read about once per thousand
 * events: Date.now() is a real share of an event's budget (docs/benchmarks.md).
 *
 * A reading that is older than the true time can only make the rule stricter, so an event it
 * accepts is accepted by the true time too; an event it rejects is checked again with a fresh
 * reading (`refresh`). Only a clock stepped backwards could make the cached reading newer than the
 * true time, and then for at most REFRESH_EVERY events.
 */
export class RecentClock {
  private reading = 0;
  private uses = REFRESH_EVERY;

  constructor(private readonly read: () => number = Date.now) {}

  /** The last reading, or a fresh one when that was used REFRESH_EVERY times. */
  recent(): number {
    if (this.uses >= REFRESH_EVERY) {
      this.reading = this.read();
      this.uses = 0;
    }
    this.uses++;
    return this.reading;
  }

  /** Reads the clock now; true when the reading moved, so a verdict made with the old one may change. */
  refresh(): boolean {
    const previous = this.reading;
    this.reading = this.read();
    this.uses = 1;
    return this.reading !== previous;
  }
}

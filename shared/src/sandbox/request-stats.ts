/**
 * Counts every request the sandbox receives, answered or refused: what `/_sandbox/stats` shows next
 * to the record counts. Requests to `/_sandbox/` itself are counted apart, so reading the stats does
 * not change the figures a client produced.
 */
export class RequestStats {
  requests = 0;
  refused = 0;
  preflights = 0;
  controlRequests = 0;
  /** By status code, plus `reset` and `lost` for connections dropped without an answer. */
  byStatus = new Map<string, number>();

  count(path: string, method: string, outcome: number | 'reset' | 'lost'): void {
    if (path.startsWith('/_sandbox/')) {
      this.controlRequests++;
      return;
    }
    this.requests++;
    if (method === 'OPTIONS') this.preflights++;
    if (typeof outcome !== 'number' || outcome >= 400) this.refused++;
    const key = String(outcome);
    this.byStatus.set(key, (this.byStatus.get(key) ?? 0) + 1);
  }

  reset(): void {
    this.requests = 0;
    this.refused = 0;
    this.preflights = 0;
    this.controlRequests = 0;
    this.byStatus.clear();
  }

  toJSON() {
    return {
      requests: this.requests,
      refused_requests: this.refused,
      preflights: this.preflights,
      control_requests: this.controlRequests,
      requests_by_status: Object.fromEntries([...this.byStatus].sort(([a], [b]) => a.localeCompare(b))),
    };
  }
}

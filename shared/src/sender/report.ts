export type DeadLetterStage = 'validation' | 'mixpanel' | 'exhausted';

/** A record that was not delivered, with why. One NDJSON line in a dead-letter file. */
export interface DeadLetterEntry {
  record: unknown;
  payload?: unknown;
  stage: DeadLetterStage;
  reason: string;
  field?: string;
}

/**
 * Why a record was not delivered, for callers that act on it: `invalid` (it never became a valid
 * payload), `refused` (Mixpanel refused that record), `uncertain` (Mixpanel refused records of its
 * batch without naming them), `failed` (not delivered for a reason that is not the record's:
 * credentials refused, an outage outlasting the retries, an unexpected answer; sending it again later
 * can deliver it).
 */
export interface Undelivered {
  cause: 'invalid' | 'refused' | 'uncertain' | 'failed';
  reason: string;
}

export interface DeliveryReport {
  recordsIn: number;
  delivered: number;
  deadLettered: number;
  /** Dead-lettered without being tried because delivery stopped (e.g. refused credentials). */
  unsent: number;
  /**
   * Records Mixpanel reported as failed in a strict 400 without saying which (no index or insert
   * ID we sent): neither delivered nor dead-lettered. in = delivered + deadLettered + unattributed.
   */
  unattributedFailures: number;
  /**
   * Records that failed for a reason not theirs, left to the caller to send again (only with the
   * sender's `retryFailedLater`): in = delivered + deadLettered + unattributed + toRetry.
   */
  toRetry: number;
  /** The first of their reasons. */
  toRetryBecause?: string;
  /** Dead-lettered records by stage and reason. */
  rejectedByReason: Record<string, number>;
  requests: number;
  retriedRequests: number;
  rateLimitedWaits: number;
  bytesRaw: number;
  bytesGzip: number;
  elapsedMs: number;
  eventsPerSecond: number;
  /** Set when delivery stopped early; says why. */
  stoppedBecause?: string;
}

export function emptyReport(): DeliveryReport {
  return {
    recordsIn: 0,
    delivered: 0,
    deadLettered: 0,
    unsent: 0,
    unattributedFailures: 0,
    toRetry: 0,
    rejectedByReason: {},
    requests: 0,
    retriedRequests: 0,
    rateLimitedWaits: 0,
    bytesRaw: 0,
    bytesGzip: 0,
    elapsedMs: 0,
    eventsPerSecond: 0,
  };
}

/** The report as a few lines for people. */
export function formatReport(report: DeliveryReport): string {
  const lines = [
    `records in:        ${report.recordsIn}`,
    `delivered:         ${report.delivered}`,
    `dead-lettered:     ${report.deadLettered}${report.unsent > 0 ? ` (${report.unsent} never sent)` : ''}`,
  ];
  if (report.unattributedFailures > 0) {
    lines.push(`failed, unnamed:   ${report.unattributedFailures} (Mixpanel did not say which records)`);
  }
  if (report.toRetry > 0) {
    lines.push(`not delivered:     ${report.toRetry}, sent again by the next run (${report.toRetryBecause})`);
  }
  for (const [reason, count] of Object.entries(report.rejectedByReason)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)) {
    lines.push(`  ${count} × ${reason}`);
  }
  lines.push(
    `requests:          ${report.requests} (${report.retriedRequests} retried, ${report.rateLimitedWaits} rate-limit waits)`,
    `bytes sent:        ${report.bytesRaw} raw, ${report.bytesGzip} gzip`,
    `elapsed:           ${(report.elapsedMs / 1000).toFixed(1)} s (${Math.round(report.eventsPerSecond)} records/s)`,
  );
  if (report.stoppedBecause) lines.push(`stopped:           ${report.stoppedBecause}`);
  return lines.join('\n');
}

export interface LogEntry {
  method: string;
  /** The path only: query strings carry `data=` (user data) and may carry `api_key`. */
  path: string;
  outcome: number | 'reset' | 'lost' | 'slow';
  records?: number;
  accepted?: number;
  reason?: string;
  ms: number;
}

const MAX_REASON = 500;

/**
 * One line per request, for stderr: `POST /track/ 200 records=3 accepted=2 3ms reason="…"`. Never
 * holds a header, a body or a query string, so no credential reaches the log.
 */
export function formatLogLine(entry: LogEntry, now = new Date()): string {
  const parts = [now.toISOString(), entry.method, entry.path, String(entry.outcome)];
  if (entry.records !== undefined) parts.push(`records=${entry.records}`);
  if (entry.accepted !== undefined) parts.push(`accepted=${entry.accepted}`);
  parts.push(`${Math.round(entry.ms)}ms`);
  if (entry.reason !== undefined && entry.reason !== '') {
    const oneLine = entry.reason.replace(/\s+/g, ' ');
    const reason = oneLine.length > MAX_REASON ? `${oneLine.slice(0, MAX_REASON)}…` : oneLine;
    parts.push(`reason=${JSON.stringify(reason)}`);
  }
  return `sandbox: ${parts.join(' ')}`;
}

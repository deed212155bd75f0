/** Retry timing from the ingestion spec: 2 s doubling to 60 s, plus 1–5 s of random jitter. */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  jitterMinMs: number;
  jitterMaxMs: number;
}

export const SPEC_BACKOFF: BackoffPolicy = {
  initialMs: 2000,
  maxMs: 60_000,
  jitterMinMs: 1000,
  jitterMaxMs: 5000,
};

/** Wait before retry number `attempt` (0 for the first retry). */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number): number {
  const base = Math.min(policy.initialMs * 2 ** attempt, policy.maxMs);
  return base + policy.jitterMinMs + random() * (policy.jitterMaxMs - policy.jitterMinMs);
}

/** `Retry-After` as seconds or an HTTP date, in ms from `nowMs`; undefined when absent or unreadable. */
export function retryAfterMs(header: string | string[] | undefined, nowMs: number): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

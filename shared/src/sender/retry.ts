import type { Endpoint } from '../payload/index.js';
import { classifyStatus } from './answers.js';
import { backoffDelay, retryAfterMs, type BackoffPolicy } from './backoff.js';
import type { HttpResponse, TransportError } from './transport.js';

/** The retry rules of one sender (defaults in `SenderOptions`). */
export interface RetrySettings {
  /** Retries of a request after 5xx, timeouts and connection errors. */
  maxRetries: number;
  /** Total time one request may wait on 429s before its records are dead-lettered. */
  maxRateLimitWaitMs: number;
  backoff: BackoffPolicy;
}

/**
 * Where one request stands: failures (5xx, no answer) use the `maxRetries` budget; rate-limit
 * waits have their own count (for the backoff) and total, as the spec asks.
 */
export interface Attempts {
  failures: number;
  rateLimitWaits: number;
  rateLimitWaitedMs: number;
}

export const FIRST_ATTEMPT: Readonly<Attempts> = { failures: 0, rateLimitWaits: 0, rateLimitWaitedMs: 0 };

/** What a request got: an HTTP answer, or no answer at all (timeout, connection failure). */
export type RequestOutcome = { response: HttpResponse } | { error: TransportError };

/**
 * What to do next with a request:
 * - `accepted`: 200, read the answer's `body` (`/track`, `/engage`, `/groups` can still refuse);
 * - `partial`: a 400 of `/import`, read which records failed from `body` (`readStrictFailure`);
 * - `retry`: send the same request again after `afterMs`, a failure retry;
 * - `wait`: send it again after `afterMs`, a rate-limit wait;
 * - `split`: send each half of the records on its own;
 * - `stop`: the credentials are refused: dead-letter this request and send nothing more;
 * - `dead-letter`: give up on every record of the request, with the stage and reason.
 * `retry` and `wait` carry the attempts to pass in with the next outcome.
 */
export type RetryDecision =
  | { action: 'accepted'; body: string }
  | { action: 'partial'; body: string }
  | { action: 'retry'; afterMs: number; attempts: Attempts }
  | { action: 'wait'; afterMs: number; attempts: Attempts }
  | { action: 'split' }
  | { action: 'stop'; reason: string }
  | { action: 'dead-letter'; stage: 'mixpanel' | 'exhausted'; reason: string; failed?: boolean };

export interface RetryInput {
  outcome: RequestOutcome;
  /** The endpoint; `lookup-tables` sends one whole table per request (never split). */
  endpoint: Endpoint | 'lookup-tables';
  /** Records in the request (a single record that is too large cannot be split). */
  records: number;
  attempts: Readonly<Attempts>;
  settings: RetrySettings;
  /** The clock, for a `Retry-After` given as a date. */
  nowMs: number;
  /** Draws the backoff jitter, in [0, 1); called only when a backoff delay is computed. */
  random: () => number;
}

/**
 * The spec's retry rules as one function of what happened, free of I/O: 429 waits (honouring
 * `Retry-After`, else exponential backoff) up to `maxRateLimitWaitMs` in total without touching
 * the failure budget; 5xx and requests without an answer retry with backoff up to `maxRetries`
 * times; 413 splits; 401/403 stop; every other status is final.
 */
export function decideRetry(input: RetryInput): RetryDecision {
  const { outcome, attempts, settings } = input;
  if ('error' in outcome) {
    return failureRetry(input, `${outcome.error.kind}: ${outcome.error.message}`);
  }
  const { status, body, headers } = outcome.response;
  switch (classifyStatus(status)) {
    case 'accepted':
      return { action: 'accepted', body };
    case 'stop':
      return {
        action: 'stop',
        reason: `Mixpanel refused the credentials (HTTP ${status}); check the MIXPANEL_* settings and the project's region`,
      };
    case 'split':
      return input.records > 1
        ? { action: 'split' }
        : {
            action: 'dead-letter',
            stage: 'mixpanel',
            reason: 'Mixpanel refused the record as too large (HTTP 413)',
          };
    case 'wait': {
      const given = retryAfterMs(headers['retry-after'], input.nowMs);
      const afterMs = given ?? backoffDelay(settings.backoff, attempts.rateLimitWaits, input.random);
      if (attempts.rateLimitWaitedMs + afterMs > settings.maxRateLimitWaitMs) {
        return {
          action: 'dead-letter',
          stage: 'exhausted',
          reason: `still rate-limited (HTTP 429) after waiting ${Math.round(attempts.rateLimitWaitedMs / 1000)} s`,
        };
      }
      return {
        action: 'wait',
        afterMs,
        attempts: {
          ...attempts,
          rateLimitWaits: attempts.rateLimitWaits + (given === undefined ? 1 : 0),
          rateLimitWaitedMs: attempts.rateLimitWaitedMs + afterMs,
        },
      };
    }
    case 'retry':
      return failureRetry(input, `HTTP ${status} ${body.slice(0, 200)}`);
    case 'refused':
      return input.endpoint === 'import' && status === 400
        ? { action: 'partial', body }
        : {
            action: 'dead-letter',
            stage: 'mixpanel',
            reason: `HTTP ${status}: ${body.slice(0, 300)}`,
            // Beyond 400, an answer Mixpanel's API does not give about records (404, 405, a proxy's
            // 407…): the request failed, not its records.
            ...(status !== 400 ? { failed: true } : {}),
          };
  }
}

function failureRetry(input: RetryInput, lastError: string): RetryDecision {
  const { attempts, settings } = input;
  const failures = attempts.failures + 1;
  if (failures > settings.maxRetries) {
    return {
      action: 'dead-letter',
      stage: 'exhausted',
      reason: `gave up after ${settings.maxRetries} retries: ${lastError}`,
    };
  }
  return {
    action: 'retry',
    afterMs: backoffDelay(settings.backoff, failures - 1, input.random),
    attempts: { ...attempts, failures },
  };
}

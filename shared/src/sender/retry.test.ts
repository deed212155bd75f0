import { describe, expect, it } from 'vitest';
import { SPEC_BACKOFF } from './backoff.js';
import { decideRetry, FIRST_ATTEMPT, type Attempts, type RetryInput, type RetrySettings } from './retry.js';
import { TransportError } from './transport.js';

const settings: RetrySettings = { maxRetries: 3, maxRateLimitWaitMs: 60_000, backoff: SPEC_BACKOFF };

function answer(status: number, body = '', headers: Record<string, string> = {}): RetryInput['outcome'] {
  return { response: { status, body, headers } };
}

function decide(outcome: RetryInput['outcome'], more: Partial<RetryInput> = {}) {
  return decideRetry({
    outcome,
    endpoint: 'import',
    records: 10,
    attempts: FIRST_ATTEMPT,
    settings,
    nowMs: Date.parse('2026-12-01T12:00:00Z'),
    random: () => 0.5,
    ...more,
  });
}

describe('decideRetry', () => {
  it('200 is accepted (the answer is read next); a 400 of /import is a partial success', () => {
    expect(decide(answer(200, '1'))).toEqual({ action: 'accepted', body: '1' });
    expect(decide(answer(400, '{}'))).toEqual({ action: 'partial', body: '{}' });
  });

  it('a 400 of another endpoint and unknown statuses dead-letter the request at once', () => {
    expect(decide(answer(400, 'bad'), { endpoint: 'engage' })).toEqual({
      action: 'dead-letter',
      stage: 'mixpanel',
      reason: 'HTTP 400: bad',
    });
    expect(decide(answer(404, 'x'.repeat(400)))).toEqual({
      action: 'dead-letter',
      stage: 'mixpanel',
      reason: `HTTP 404: ${'x'.repeat(300)}`,
    });
  });

  it('401 and 403 stop, saying where to look', () => {
    for (const status of [401, 403]) {
      const decision = decide(answer(status));
      expect(decision.action).toBe('stop');
      expect(decision.action === 'stop' && decision.reason).toMatch(
        new RegExp(`refused the credentials \\(HTTP ${status}\\).*MIXPANEL_`),
      );
    }
  });

  it('413 splits a request of several records and dead-letters a single one', () => {
    expect(decide(answer(413), { records: 2 })).toEqual({ action: 'split' });
    expect(decide(answer(413), { records: 1 })).toEqual({
      action: 'dead-letter',
      stage: 'mixpanel',
      reason: 'Mixpanel refused the record as too large (HTTP 413)',
    });
  });

  it('5xx and requests without an answer retry with the spec backoff until maxRetries, then dead-letter', () => {
    const outcomes = [
      answer(503, 'unavailable'),
      { error: new TransportError('connection', 'ECONNRESET socket hang up') },
      { error: new TransportError('timeout', 'no answer within 60000 ms') },
      answer(502, 'bad gateway'),
    ];
    let attempts: Attempts = FIRST_ATTEMPT;
    const waits: number[] = [];
    let last;
    for (const outcome of outcomes) {
      last = decide(outcome, { attempts });
      if (last.action !== 'retry') break;
      waits.push(last.afterMs);
      attempts = last.attempts;
    }
    // 2 s, 4 s, 8 s, each with 3 s of jitter (random 0.5 of 1–5 s).
    expect(waits).toEqual([5000, 7000, 11000]);
    expect(last).toEqual({
      action: 'dead-letter',
      stage: 'exhausted',
      reason: 'gave up after 3 retries: HTTP 502 bad gateway',
    });
    const noAnswer = decide(
      { error: new TransportError('timeout', 'no answer within 10 ms') },
      { attempts: { ...FIRST_ATTEMPT, failures: 3 } },
    );
    expect(noAnswer).toMatchObject({ reason: 'gave up after 3 retries: timeout: no answer within 10 ms' });
  });

  it('429 honours Retry-After (seconds or a date) without drawing jitter, else backs off; the failure budget is untouched', () => {
    let draws = 0;
    const random = () => (draws++, 0.5);
    expect(decide(answer(429, '', { 'retry-after': '7' }), { random })).toEqual({
      action: 'wait',
      afterMs: 7000,
      attempts: { failures: 0, rateLimitWaits: 0, rateLimitWaitedMs: 7000 },
    });
    expect(
      decide(answer(429, '', { 'retry-after': 'Tue, 01 Dec 2026 12:00:30 GMT' }), { random }),
    ).toMatchObject({
      afterMs: 30_000,
    });
    expect(draws).toBe(0);
    const attempts = { failures: 3, rateLimitWaits: 1, rateLimitWaitedMs: 7000 };
    expect(decide(answer(429), { attempts, random })).toEqual({
      action: 'wait',
      afterMs: 4000 + 3000,
      attempts: { failures: 3, rateLimitWaits: 2, rateLimitWaitedMs: 14_000 },
    });
    expect(draws).toBe(1);
  });

  it('429 dead-letters once the total wait would pass maxRateLimitWaitMs', () => {
    const attempts = { failures: 0, rateLimitWaits: 4, rateLimitWaitedMs: 50_000 };
    expect(decide(answer(429), { attempts })).toEqual({
      action: 'dead-letter',
      stage: 'exhausted',
      reason: 'still rate-limited (HTTP 429) after waiting 50 s',
    });
    expect(decide(answer(429, '', { 'retry-after': '10' }), { attempts })).toMatchObject({ action: 'wait' });
  });
});

import { apiError, INVALID_CREDENTIALS, type Answer } from './answer.js';
import type { FaultKind } from './faults.js';

/** Faults answered at once, without ingesting anything: a status and Mixpanel's body for it. */
export type RefusalFault = Exclude<FaultKind, 'reset' | 'slow' | 'lost'>;

export function isRefusal(fault: FaultKind): fault is RefusalFault {
  return fault !== 'reset' && fault !== 'slow' && fault !== 'lost';
}

export function refusalAnswer(fault: RefusalFault, retryAfterSeconds: number | undefined): Answer {
  const reason = { reason: `injected fault ${fault}` };
  switch (fault) {
    case '429':
      return apiError(
        429,
        'Project exceeded rate limits. Please retry the request with exponential backoff.',
        {
          ...reason,
          headers: retryAfterSeconds !== undefined ? { 'Retry-After': String(retryAfterSeconds) } : {},
        },
      );
    case '401':
      return apiError(401, INVALID_CREDENTIALS, reason);
    case '403':
      return apiError(403, 'injected fault: this project does not accept the request (forbidden)', reason);
    case '413':
      return apiError(413, 'injected fault: request too large; split it and send the parts', reason);
    case '400':
      return apiError(400, 'injected fault: the request was refused as invalid', reason);
    default:
      return apiError(Number(fault), 'injected fault', reason);
  }
}

/** What a `slow` fault answers once the client has given up waiting. */
export const SLOW_ANSWER = apiError(503, 'slow reply: the sandbox answered after the client timeout', {
  reason: 'injected fault slow',
});

import type { IdMergeMode, Payload } from '../payload/index.js';
import { validateEngageUpdate, validateEvent, validateGroupUpdate } from '../validation/index.js';
import { fromViolations, type MappingIssue, type MappingResult } from './issues.js';

/**
 * Checks every payload a mapper produced against Mixpanel's strict rules, so nothing invalid
 * reaches a sender: one bad payload fails the record with the payload's field and reason.
 */
export function finalize(
  record: string,
  payloads: Payload[],
  warnings: MappingIssue[],
  options: { mode: IdMergeMode; nowMs?: number },
): MappingResult {
  const errors: MappingIssue[] = [];
  for (const payload of payloads) {
    const result =
      payload.endpoint === 'engage'
        ? validateEngageUpdate(payload.body)
        : payload.endpoint === 'groups'
          ? validateGroupUpdate(payload.body)
          : validateEvent(payload.body, { mode: options.mode, nowMs: options.nowMs });
    if (!result.ok) errors.push(...fromViolations(record, 'invalid_payload', result.violations));
    else warnings.push(...fromViolations(record, 'truncated_by_mixpanel', result.warnings));
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, payloads, warnings };
}

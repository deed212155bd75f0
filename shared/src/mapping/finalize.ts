import type { IdMergeMode, Payload } from '../payload/index.js';
import { validateEngageUpdate, validateEvent, validateGroupUpdate } from '../validation/index.js';
import {
  fromViolations,
  labelOf,
  type MappingIssue,
  type MappingResult,
  type RecordLabel,
} from './issues.js';

/**
 * Checks every payload a mapper produced against Mixpanel's strict rules, so nothing invalid
 * reaches a sender: one bad payload fails the record with the payload's field and reason.
 */
export function finalize(
  record: RecordLabel,
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
    if (!result.ok) errors.push(...fromViolations(labelOf(record), 'invalid_payload', result.violations));
    else if (result.warnings.length > 0)
      warnings.push(...fromViolations(labelOf(record), 'truncated_by_mixpanel', result.warnings));
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, payloads, warnings };
}

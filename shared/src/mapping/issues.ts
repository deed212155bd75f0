import type { Payload } from '../payload/index.js';
import type { Violation } from '../validation/index.js';

/** A problem with one input record: which record, which field, a stable code, and what to do. */
export interface MappingIssue {
  /** The record: `message msg-1`, `row event_id=42`, `index 3`. */
  record: string;
  field: string;
  code: string;
  message: string;
}

export type MappingResult =
  | {
      ok: true;
      payloads: Payload[];
      warnings: MappingIssue[];
      /** The single payload is the input record itself, unchanged: its JSON text can be sent as it is. */
      sameAsInput?: boolean;
    }
  | { ok: false; errors: MappingIssue[] };

/** Thrown inside a mapper to stop at the first problem; mappers turn it into a failed MappingResult. */
export class MappingFailure extends Error {
  constructor(
    readonly field: string,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'MappingFailure';
  }
}

export function failure(record: string, field: string, code: string, message: string): MappingResult {
  return { ok: false, errors: [{ record, field, code, message }] };
}

export function fromViolations(record: string, code: string, violations: Violation[]): MappingIssue[] {
  return violations.map((v) => ({ record, field: v.field, code, message: v.message }));
}

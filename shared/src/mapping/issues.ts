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

/** A record's label, or how to make it: made only when an issue names the record. */
export type RecordLabel = string | (() => string);

export function labelOf(record: RecordLabel): string {
  return typeof record === 'string' ? record : record();
}

export function failure(record: string, field: string, code: string, message: string): MappingResult {
  return { ok: false, errors: [{ record, field, code, message }] };
}

/** What an unexpected error says, without ever throwing itself. */
function describeError(error: unknown): string {
  try {
    return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  } catch {
    return 'an error that cannot be described';
  }
}

/**
 * Maps one record: a MappingFailure becomes the record's issue, and so does any other error a
 * value could provoke. The mapping layer never throws on a value, so a poison record is refused
 * alone (the caller dead-letters it with the reason) and the records around it go on.
 */
export function guarded(record: RecordLabel, map: () => MappingResult): MappingResult {
  try {
    return map();
  } catch (error) {
    if (error instanceof MappingFailure)
      return failure(labelOf(record), error.field, error.code, error.message);
    return failure(
      labelOf(record),
      '',
      'unmappable_value',
      `a value of this record could not be mapped (${describeError(error)}); the record is kept with this reason, fix the value at the source`,
    );
  }
}

export function fromViolations(record: string, code: string, violations: Violation[]): MappingIssue[] {
  return violations.map((v) => ({ record, field: v.field, code, message: v.message }));
}

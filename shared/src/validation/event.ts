import type { IdMergeMode, MixpanelEvent } from '../payload/index.js';
import { identifyParties } from './identify.js';
import { idVerdict, isBlank, isValidInsertId, type IdVerdict } from './ids.js';
import { describeInstant, EARLIEST_EVENT_MS, LIMITS, MAX_FUTURE_MS } from './limits.js';
import { checkValueTree, type Violation } from './values.js';

export type { Violation } from './values.js';

export interface ValidationOptions {
  mode: IdMergeMode;
  /** The clock for the "at most one hour ahead" rule; defaults to Date.now(). */
  nowMs?: number;
  /**
   * Strict `/import`'s rules (default). Not strict, as `/track` and plain `/import` take events:
   * `$insert_id` may be absent, and in Simplified an identity event's name is an ordinary name.
   */
  strict?: boolean;
}

export type EventValidation = { ok: true; warnings: Violation[] } | { ok: false; violations: Violation[] };

export const SIMPLIFIED_IDENTITY_EVENT_MESSAGE =
  'identity events are not allowed when project is using simplified identity management';

export const IDENTITY_EVENTS: ReadonlySet<string> = new Set(['$identify', '$create_alias', '$merge']);

/** Milliseconds since epoch from Mixpanel's `time` (seconds, or milliseconds when above 1e11). */
export function eventTimeMs(time: number): number {
  return time > 1e11 ? time : time * 1000;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** True when `value` is shaped like a Mixpanel event; use after a successful validateEvent. */
export function isMixpanelEvent(value: unknown): value is MixpanelEvent {
  return isObject(value) && typeof value.event === 'string' && isObject(value.properties);
}

function checkId(
  field: string,
  value: unknown,
  violations: Violation[],
  allowEmpty: boolean,
  verdict: IdVerdict = idVerdict(value),
): void {
  switch (verdict) {
    case 'usable':
      return;
    case 'not_a_string':
      violations.push({ field, message: `must be a string, got ${typeof value}` });
      return;
    case 'invalid':
      violations.push({
        field,
        message: `"${value as string}" is on Mixpanel's list of invalid IDs (it would merge unrelated people); send a real ID or leave the field out`,
      });
      return;
    case 'none':
      if (typeof value !== 'string') {
        violations.push({
          field,
          message: `must be a string, got ${value === null ? 'null' : typeof value}`,
        });
      } else if (!allowEmpty) {
        violations.push({
          field,
          message: value === '' ? 'must not be empty' : 'must not be blank (it holds only whitespace)',
        });
      }
  }
}

function checkTime(props: Record<string, unknown>, nowMs: number, violations: Violation[]): void {
  const time = props.time;
  if (typeof time !== 'number' || !Number.isFinite(time)) {
    violations.push({
      field: 'properties.time',
      message:
        time === undefined
          ? 'is required: seconds or milliseconds since the Unix epoch'
          : `must be a number of seconds or milliseconds since the Unix epoch, got ${typeof time === 'number' ? String(time) : typeof time === 'string' ? JSON.stringify(time) : typeof time}`,
    });
    return;
  }
  const ms = eventTimeMs(time);
  if (ms < EARLIEST_EVENT_MS) {
    violations.push({
      field: 'properties.time',
      message: `${time} is before 1971-01-01, which Mixpanel rejects`,
    });
  } else if (ms > nowMs + MAX_FUTURE_MS) {
    violations.push({
      field: 'properties.time',
      message: `${describeInstant(ms)} is more than one hour in the future; check the clock or the time zone`,
    });
  }
}

function checkIdentity(
  name: string,
  props: Record<string, unknown>,
  mode: IdMergeMode,
  strict: boolean,
  violations: Violation[],
): void {
  const hasDistinct = props.distinct_id !== undefined && props.distinct_id !== null;
  if (hasDistinct) checkId('properties.distinct_id', props.distinct_id, violations, true);

  if (mode === 'simplified') {
    // All identity events start with '$': most names skip the set lookup.
    if (strict && name.charCodeAt(0) === 0x24 && IDENTITY_EVENTS.has(name)) {
      violations.push({ field: 'event', message: SIMPLIFIED_IDENTITY_EVENT_MESSAGE });
    }
    // A blank $device_id or $user_id names nobody (idVerdict): it is absent, not an error.
    const device = idVerdict(props.$device_id);
    const user = idVerdict(props.$user_id);
    const hasDevice = device !== 'none';
    const hasUser = user !== 'none';
    if (hasDevice) checkId('properties.$device_id', props.$device_id, violations, false, device);
    if (hasUser) checkId('properties.$user_id', props.$user_id, violations, false, user);
    if (!hasDistinct && !hasDevice && !hasUser) {
      violations.push({
        field: 'properties.distinct_id',
        message: 'no identity: send $device_id and/or $user_id (or distinct_id)',
      });
    }
    return;
  }

  switch (name) {
    case '$identify': {
      const parties = identifyParties(props);
      if (parties.identifiedField === 'properties.distinct_id') {
        // Checked above, except that as the identified side it must name someone (not empty or blank).
        if (idVerdict(props.distinct_id) === 'none')
          checkId('properties.distinct_id', props.distinct_id, violations, false, 'none');
      } else {
        checkId(parties.identifiedField, parties.identified, violations, false);
      }
      checkId(parties.anonField, parties.anon, violations, false);
      return;
    }
    case '$create_alias':
      checkId('properties.distinct_id', props.distinct_id, violations, false);
      checkId('properties.alias', props.alias, violations, false);
      return;
    case '$merge': {
      const ids = props.$distinct_ids;
      if (!Array.isArray(ids) || ids.length !== 2) {
        violations.push({ field: 'properties.$distinct_ids', message: 'must be a list of exactly two IDs' });
      } else {
        ids.forEach((id, i) => checkId(`properties.$distinct_ids[${i}]`, id, violations, false));
      }
      return;
    }
    default:
      if (!hasDistinct) {
        violations.push({
          field: 'properties.distinct_id',
          message: 'is required in an Original ID Merge project',
        });
      }
  }
}

/**
 * Validate one event as Mixpanel's `/import?strict=1` does. Every violation names the field and
 * says what is wrong; strings Mixpanel would truncate come back as warnings.
 */
export function validateEvent(event: unknown, options: ValidationOptions): EventValidation {
  const violations: Violation[] = [];
  const warnings: Violation[] = [];
  const strict = options.strict ?? true;
  collectEventProblems(event, options.mode, options.nowMs ?? Date.now(), strict, violations, warnings);
  return violations.length > 0 ? { ok: false, violations } : { ok: true, warnings };
}

// Reused by eventViolations, which runs once per event on the identity model's hot path.
const scratchViolations: Violation[] = [];
const scratchWarnings: Violation[] = [];

/**
 * The violations validateEvent would report (same fields, messages and order), or undefined for a
 * valid event. For callers that need only the verdict: a valid event allocates nothing.
 */
export function eventViolations(
  event: unknown,
  mode: IdMergeMode,
  nowMs: number,
  strict = true,
): Violation[] | undefined {
  // Emptied before use, not after: a throw (e.g. a BigInt time) must not leak into the next call.
  // (Checked first: setting an array's length is a builtin call even when it changes nothing.)
  if (scratchViolations.length !== 0) scratchViolations.length = 0;
  if (scratchWarnings.length !== 0) scratchWarnings.length = 0;
  collectEventProblems(event, mode, nowMs, strict, scratchViolations, scratchWarnings);
  return scratchViolations.length > 0 ? scratchViolations.splice(0) : undefined;
}

function collectEventProblems(
  event: unknown,
  mode: IdMergeMode,
  nowMs: number,
  strict: boolean,
  violations: Violation[],
  warnings: Violation[],
): void {
  if (!isObject(event)) {
    violations.push({ field: '', message: 'an event must be a JSON object {event, properties}' });
    return;
  }
  const name = event.event;
  if (typeof name !== 'string' || isBlank(name)) {
    violations.push({ field: 'event', message: 'is required: a non-empty event name' });
  }
  const props = event.properties;
  if (!isObject(props)) {
    violations.push({
      field: 'properties',
      message: 'is required: an object with time, $insert_id and an identity',
    });
    return;
  }

  checkTime(props, nowMs, violations);

  const insertId = props.$insert_id;
  if (insertId === undefined || insertId === null || insertId === '') {
    if (strict)
      violations.push({
        field: 'properties.$insert_id',
        message: 'is required: a deterministic ID of at most 36 characters [A-Za-z0-9-]',
      });
  } else if (typeof insertId !== 'string' || !isValidInsertId(insertId)) {
    violations.push({
      field: 'properties.$insert_id',
      message: `${JSON.stringify(insertId)} is not valid: at most 36 characters of [A-Za-z0-9-], not an invalid ID`,
    });
  }

  checkIdentity(typeof name === 'string' ? name : '', props, mode, strict, violations);

  checkValueTree(event, violations, warnings, LIMITS.maxEventBytes);
}

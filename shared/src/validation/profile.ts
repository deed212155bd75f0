import { idVerdict } from './ids.js';
import { LIMITS, MAX_VALUE_DEPTH } from './limits.js';
import type { EventValidation } from './event.js';
import { hasLoneSurrogate, type Violation } from './values.js';

const ENGAGE_OPERATIONS = [
  '$set',
  '$set_once',
  '$add',
  '$union',
  '$append',
  '$remove',
  '$unset',
  '$delete',
] as const;
const GROUP_OPERATIONS = ['$set', '$set_once', '$unset', '$remove', '$union', '$delete'] as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkKeyField(update: Record<string, unknown>, field: string, violations: Violation[]): void {
  const value = update[field];
  const verdict = idVerdict(value);
  if (verdict === 'none' || verdict === 'not_a_string') {
    violations.push({ field, message: 'is required: a non-empty string' });
  } else if (verdict === 'invalid') {
    violations.push({ field, message: `"${value as string}" is on Mixpanel's list of invalid IDs` });
  }
}

function checkOperations(
  update: Record<string, unknown>,
  allowed: readonly string[],
  violations: Violation[],
): void {
  const used = allowed.filter((op) => op in update);
  if (used.length !== 1) {
    violations.push({
      field: used.length === 0 ? '' : used.join(','),
      message: `an update carries exactly one operation of ${allowed.join(', ')}; found ${used.length}`,
    });
    return;
  }
  const op = used[0] as string;
  const value = update[op];
  if (op === '$unset') {
    if (!Array.isArray(value) || value.some((name) => typeof name !== 'string')) {
      violations.push({ field: op, message: 'must be a list of property names' });
    }
  } else if (op === '$delete') {
    if (value !== '' && value !== null) violations.push({ field: op, message: 'must be "" or null' });
  } else if (!isObject(value)) {
    violations.push({ field: op, message: 'must be an object of property names to values' });
  } else if (op === '$add') {
    for (const [name, amount] of Object.entries(value)) {
      if (typeof amount !== 'number' || !Number.isFinite(amount)) {
        violations.push({ field: `${op}.${name}`, message: '$add takes numbers only' });
      }
    }
  } else if (op === '$union') {
    for (const [name, list] of Object.entries(value)) {
      if (!Array.isArray(list))
        violations.push({ field: `${op}.${name}`, message: '$union takes lists only' });
    }
  }
}

/**
 * Every string of an update (keys and values) must be valid UTF-8, as in events; nesting is bounded
 * by MAX_VALUE_DEPTH so that neither this walk nor the JSON of the update can exhaust the stack.
 * Returns false when the update cannot be written as JSON at all.
 */
function checkStrings(value: unknown, field: string, depth: number, violations: Violation[]): boolean {
  if (typeof value === 'string') {
    if (hasLoneSurrogate(value)) {
      violations.push({
        field,
        message: 'is not valid UTF-8 (it holds a lone surrogate); fix the encoding at the source',
      });
    }
    return true;
  }
  if (typeof value === 'bigint') {
    violations.push({ field, message: 'is a bigint, which JSON cannot hold: send a number or a string' });
    return false;
  }
  if (typeof value !== 'object' || value === null) return true;
  if (depth > MAX_VALUE_DEPTH) {
    violations.push({ field, message: `is nested more than ${MAX_VALUE_DEPTH} levels deep: flatten it` });
    return false;
  }
  let writable = true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++)
      writable = checkStrings(value[i], `${field}[${i}]`, depth + 1, violations) && writable;
    return writable;
  }
  for (const key of Object.keys(value)) {
    const inner = field === '' ? key : `${field}.${key}`;
    if (hasLoneSurrogate(key)) {
      violations.push({
        field: inner,
        message: 'the name is not valid UTF-8 (it holds a lone surrogate); fix the encoding at the source',
      });
    }
    writable =
      checkStrings((value as Record<string, unknown>)[key], inner, depth + 1, violations) && writable;
  }
  return writable;
}

function finish(update: Record<string, unknown>, violations: Violation[]): EventValidation {
  if (!checkStrings(update, '', 0, violations)) return { ok: false, violations };
  const bytes = Buffer.byteLength(JSON.stringify(update), 'utf8');
  if (bytes > LIMITS.maxEventBytes) {
    violations.push({
      field: '',
      message: `the update is ${bytes} bytes; Mixpanel accepts at most ${LIMITS.maxEventBytes}`,
    });
  }
  return violations.length > 0 ? { ok: false, violations } : { ok: true, warnings: [] };
}

/** Validate one `/engage` user-profile update. */
export function validateEngageUpdate(update: unknown): EventValidation {
  if (!isObject(update))
    return { ok: false, violations: [{ field: '', message: 'a profile update must be an object' }] };
  const violations: Violation[] = [];
  checkKeyField(update, '$distinct_id', violations);
  checkOperations(update, ENGAGE_OPERATIONS, violations);
  return finish(update, violations);
}

/** Validate one `/groups` group-profile update. */
export function validateGroupUpdate(update: unknown): EventValidation {
  if (!isObject(update))
    return { ok: false, violations: [{ field: '', message: 'a group update must be an object' }] };
  const violations: Violation[] = [];
  checkKeyField(update, '$group_key', violations);
  checkKeyField(update, '$group_id', violations);
  checkOperations(update, GROUP_OPERATIONS, violations);
  return finish(update, violations);
}

import * as crypto from 'node:crypto';
import { createHash } from 'node:crypto';
import { isValidInsertId } from '../validation/index.js';
import { MappingFailure } from './issues.js';
import { MAX_VALUE_DEPTH } from './json-value.js';

function canonicalDate(date: Date): string {
  return Number.isNaN(date.getTime()) ? '\u0000invalid-date' : date.toISOString();
}

/**
 * The text of a value JSON.stringify cannot write (a bigint or an invalid Date inside it, or more
 * nesting than MAX_VALUE_DEPTH): the same form as JSON.stringify for everything it can write,
 * bigints as `12n`, Dates as their ISO time. Bounded, so it never exhausts the stack.
 */
function canonicalSlow(part: unknown, depth: number): string {
  if (typeof part === 'bigint') return `${part}n`;
  if (part instanceof Date) return JSON.stringify(canonicalDate(part));
  if (typeof part !== 'object' || part === null || Buffer.isBuffer(part))
    return JSON.stringify(part) ?? 'null';
  if (depth >= MAX_VALUE_DEPTH) {
    throw new MappingFailure(
      '',
      'too_deep',
      `a value is nested more than ${MAX_VALUE_DEPTH} levels deep, too deep to identify the record; flatten it at the source`,
    );
  }
  if (Array.isArray(part)) return `[${part.map((item) => canonicalSlow(item, depth + 1)).join(',')}]`;
  const entries: string[] = [];
  for (const [key, value] of Object.entries(part)) {
    if (value !== undefined) entries.push(`${JSON.stringify(key)}:${canonicalSlow(value, depth + 1)}`);
  }
  return `{${entries.join(',')}}`;
}

function canonical(part: unknown): string {
  if (part instanceof Date) return canonicalDate(part);
  if (typeof part === 'bigint') return `${part}n`;
  if (part === undefined) return '\u0000u';
  try {
    return JSON.stringify(part) ?? String(part);
  } catch {
    return canonicalSlow(part, 0);
  }
}

/**
 * A deterministic `$insert_id` from the parts that make a record unique: 32 lowercase hex
 * characters of a SHA-256 over the parts. The same parts always give the same ID, so retries and
 * re-syncs deduplicate at Mixpanel.
 */
export function deriveInsertId(parts: readonly unknown[]): string {
  let text = '';
  for (const part of parts) text += `${canonical(part)}\u001f`;
  // One call for the whole digest: a Hash object and an update per part cost more than the hashing.
  return oneShotHash === undefined
    ? createHash('sha256').update(text).digest('hex').slice(0, 32)
    : oneShotHash('sha256', text, 'hex').slice(0, 32);
}

/** `crypto.hash` (Node 20.12+); older Node builds a Hash object. */
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;

/** The ID itself when Mixpanel accepts it as `$insert_id`, else a hash of it. */
export function insertIdFrom(id: string): string {
  return isValidInsertId(id) ? id : deriveInsertId([id]);
}

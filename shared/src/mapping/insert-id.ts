import { createHash } from 'node:crypto';
import { isValidInsertId } from '../validation/index.js';

function canonical(part: unknown): string {
  if (part instanceof Date) return part.toISOString();
  if (typeof part === 'bigint') return `${part}n`;
  if (part === undefined) return '\u0000u';
  return JSON.stringify(part) ?? String(part);
}

/**
 * A deterministic `$insert_id` from the parts that make a record unique: 32 lowercase hex
 * characters of a SHA-256 over the parts. The same parts always give the same ID, so retries and
 * re-syncs deduplicate at Mixpanel.
 */
export function deriveInsertId(parts: readonly unknown[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(canonical(part)).update('\u001f');
  return hash.digest('hex').slice(0, 32);
}

/** The ID itself when Mixpanel accepts it as `$insert_id`, else a hash of it. */
export function insertIdFrom(id: string): string {
  return isValidInsertId(id) ? id : deriveInsertId([id]);
}

/**
 * Checks one call's values before it is kept, without recursion (any nesting depth is safe):
 * nesting at most MAX_DEPTH levels, every string (keys too) valid Unicode, and, when the request
 * body held bytes that are not UTF-8, no U+FFFD (the decoder's stand-in for those bytes).
 */
export const MAX_DEPTH = 64;

declare global {
  interface String {
    /** ES2024; in Node since 20. */
    isWellFormed(): boolean;
  }
}

export interface Problem {
  field: string;
  reason: string;
}

function stringProblem(text: string, invalidUtf8: boolean): string | undefined {
  if (!text.isWellFormed()) return 'holds a lone UTF-16 surrogate (not valid Unicode)';
  if (invalidUtf8 && text.includes('\uFFFD')) return 'holds bytes that are not valid UTF-8';
  return undefined;
}

const child = (path: string, key: string | number, depth: number): string =>
  depth > 6 ? path : typeof key === 'number' ? `${path}[${key}]` : path === '' ? key : `${path}.${key}`;

// The walk's stack, reused from call to call (the usual call has no problem to report).
const values: unknown[] = [];
const depths: number[] = [];

/**
 * True when `call` has no problem: the same checks as `describeProblem` without building a path
 * for every value (only a problem needs one).
 */
function isClean(call: Record<string, unknown>, invalidUtf8: boolean): boolean {
  values.length = 0;
  depths.length = 0;
  values.push(call);
  depths.push(1);
  while (values.length > 0) {
    const value = values.pop();
    const depth = depths.pop() as number;
    if (typeof value === 'string') {
      if (stringProblem(value, invalidUtf8) !== undefined) return false;
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (depth > MAX_DEPTH) return false;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        values.push(value[i]);
        depths.push(depth + 1);
      }
      continue;
    }
    for (const key in value) {
      if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
      if (stringProblem(key, invalidUtf8) !== undefined) return false;
      values.push((value as Record<string, unknown>)[key]);
      depths.push(depth + 1);
    }
  }
  return true;
}

/** The first problem of `call`'s values, or undefined. */
export function inspectCall(call: Record<string, unknown>, invalidUtf8: boolean): Problem | undefined {
  if (isClean(call, invalidUtf8)) return undefined;
  // Whatever the clean walk held is garbage now; the deep value it may have reached is let go.
  values.length = 0;
  return describeProblem(call, invalidUtf8);
}

/** The first problem of `call`'s values, with the path to it. */
function describeProblem(call: Record<string, unknown>, invalidUtf8: boolean): Problem | undefined {
  const stack: Array<{ value: unknown; depth: number; path: string }> = [{ value: call, depth: 1, path: '' }];
  for (;;) {
    const top = stack.pop();
    if (top === undefined) return undefined;
    const { value, depth, path } = top;
    if (typeof value === 'string') {
      const reason = stringProblem(value, invalidUtf8);
      if (reason !== undefined) return { field: path || 'call', reason: `${path || 'the call'} ${reason}` };
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (depth > MAX_DEPTH)
      return {
        field: path,
        reason: `the call is nested deeper than ${MAX_DEPTH} levels (at ${path}${depth > 6 ? '…' : ''})`,
      };
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++)
        stack.push({ value: value[i], depth: depth + 1, path: child(path, i, depth) });
      continue;
    }
    for (const key of Object.keys(value)) {
      const reason = stringProblem(key, invalidUtf8);
      if (reason !== undefined)
        return { field: path || 'call', reason: `a key of ${path || 'the call'} ${reason}` };
      stack.push({
        value: (value as Record<string, unknown>)[key],
        depth: depth + 1,
        path: child(path, key, depth),
      });
    }
  }
}

/** A copy of `value` cut at `depth` levels (deeper values become a marker): safe to serialize. */
export function truncateDepth(value: unknown, depth = 16): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (depth <= 0) return '[nested deeper; cut]';
  if (Array.isArray(value)) return value.map((item) => truncateDepth(item, depth - 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = truncateDepth(item, depth - 1);
  return out;
}

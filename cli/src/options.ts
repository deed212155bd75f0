import { InvalidArgumentError, Option } from 'commander';
import { ID_MERGE_MODES, type BackoffPolicy, type IdMergeMode } from '@idmerge/shared';

function parseMode(value: string): IdMergeMode {
  const mode = ID_MERGE_MODES.find((m) => m === value.toLowerCase());
  if (mode === undefined) throw new InvalidArgumentError(`expected simplified or original, got "${value}"`);
  return mode;
}

/**
 * `--mode simplified|original`: the ID Merge API of the Mixpanel project. Every command that maps
 * or resolves identities requires it: a wrong guess merges the wrong people, so there is no default.
 */
export function modeOption(): Option {
  return new Option('--mode <mode>', 'ID Merge API of the project: simplified | original (required)')
    .choices(ID_MERGE_MODES)
    .argParser(parseMode)
    .makeOptionMandatory();
}

/** Whole numbers as people write them: digits only (no sign, decimals, exponent or hex). */
const DIGITS = /^\d+$/;

/** A whole number ≥ `min` from the text of option `name`; a clear error otherwise. */
export function parseWholeNumber(value: string, name: string, min: number): number {
  const n = DIGITS.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min) {
    throw new InvalidArgumentError(`${name} must be a whole number ≥ ${min}, got "${value}"`);
  }
  return n;
}

/** A commander parser for whole-number options: `wholeNumber('--port', 0)`. */
export function wholeNumber(name: string, min: number): (value: string) => number {
  return (value: string): number => parseWholeNumber(value, name, min);
}

/** `--backoff INITIAL,MAX,JITTER_MIN,JITTER_MAX` in milliseconds: the retry timing of requests. */
export function backoffPolicy(value: string): BackoffPolicy {
  const texts = value.split(',');
  if (texts.length !== 4) {
    throw new InvalidArgumentError(
      'expected INITIAL,MAX,JITTER_MIN,JITTER_MAX in milliseconds, e.g. 2000,60000,1000,5000',
    );
  }
  const [initialMs, maxMs, jitterMinMs, jitterMaxMs] = texts.map((text, i) =>
    parseWholeNumber(text, `--backoff ${['INITIAL', 'MAX', 'JITTER_MIN', 'JITTER_MAX'][i]}`, 0),
  ) as [number, number, number, number];
  if (jitterMinMs > jitterMaxMs) throw new InvalidArgumentError('--backoff: JITTER_MIN is above JITTER_MAX');
  return { initialMs, maxMs, jitterMinMs, jitterMaxMs };
}

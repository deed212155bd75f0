import { InvalidArgumentError, Option } from 'commander';
import { ID_MERGE_MODES, type BackoffPolicy, type IdMergeMode } from '@idmerge/shared';

function parseMode(value: string): IdMergeMode {
  const mode = ID_MERGE_MODES.find((m) => m === value.toLowerCase());
  if (mode === undefined) throw new InvalidArgumentError(`expected simplified or original, got "${value}"`);
  return mode;
}

/** `--mode simplified|original`: the ID Merge API of the Mixpanel project. */
export function modeOption(): Option {
  return new Option('--mode <mode>', 'ID Merge API of the project: simplified | original')
    .choices(ID_MERGE_MODES)
    .argParser(parseMode)
    .makeOptionMandatory();
}

/** A commander parser for whole-number options: `wholeNumber('--port', 0)`. */
export function wholeNumber(name: string, min: number): (value: string) => number {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`${name} must be a whole number ≥ ${min}`);
    return n;
  };
}

/** `--backoff INITIAL,MAX,JITTER_MIN,JITTER_MAX` in milliseconds: the retry timing of requests. */
export function backoffPolicy(value: string): BackoffPolicy {
  const parts = value.split(',').map(Number);
  if (parts.length !== 4 || parts.some((n) => !Number.isFinite(n) || n < 0)) {
    throw new InvalidArgumentError(
      'expected INITIAL,MAX,JITTER_MIN,JITTER_MAX in milliseconds, e.g. 2000,60000,1000,5000',
    );
  }
  const [initialMs, maxMs, jitterMinMs, jitterMaxMs] = parts as [number, number, number, number];
  return { initialMs, maxMs, jitterMinMs, jitterMaxMs };
}

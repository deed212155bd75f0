import { InvalidArgumentError, Option } from 'commander';
import { ID_MERGE_MODES, type IdMergeMode } from '@idmerge/shared';

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

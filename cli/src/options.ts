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

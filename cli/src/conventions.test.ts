import { readFileSync } from 'node:fs';
import { Command, CommanderError, type Option } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registerCommands } from './commands/index.js';
import { deliveryExitCode, EXIT } from './exit-codes.js';
import { parseWholeNumber } from './options.js';

// The conventions every idmerge command keeps: --mode where the ID Merge API matters, whole
// numbers for numeric flags, one table of exit codes (also in the README).

function program(): Command {
  const root = new Command('idmerge')
    .exitOverride()
    .configureOutput({ writeErr: () => {}, writeOut: () => {} });
  registerCommands(root);
  return root;
}

/** Parses a command line without running anything past option parsing; the error commander raises. */
function parseError(args: string[]): CommanderError | undefined {
  const root = program();
  for (const command of root.commands) command.action(() => {});
  try {
    root.parse(args, { from: 'user' });
    return undefined;
  } catch (error) {
    if (error instanceof CommanderError) return error;
    throw error;
  }
}

/** Placeholders of options that take a number. */
const NUMERIC = /<(n|ms|seconds)>/;

let savedMode: string | undefined;
beforeEach(() => {
  savedMode = process.env.MIXPANEL_ID_MERGE;
  delete process.env.MIXPANEL_ID_MERGE;
});
afterEach(() => {
  if (savedMode !== undefined) process.env.MIXPANEL_ID_MERGE = savedMode;
});

describe('--mode', () => {
  // The commands that map or resolve identities themselves; sync, preview and schedule read the
  // mode from the sync definition, where it is required too.
  const needsMode: Record<string, string[]> = {
    import: ['events.ndjson'],
    collect: [],
    resolve: [],
    sandbox: [],
  };

  it.each(Object.entries(needsMode))('%s requires it, with no default', (name, args) => {
    const error = parseError([name, ...args]);
    expect(error?.code).toBe('commander.missingMandatoryOptionValue');
    expect(error?.message).toContain('--mode');
    expect(parseError([name, ...args, '--mode', 'original'])).toBeUndefined();
  });

  it('MIXPANEL_ID_MERGE stands in for it on import and collect', () => {
    process.env.MIXPANEL_ID_MERGE = 'simplified';
    expect(parseError(['import', 'events.ndjson'])).toBeUndefined();
    expect(parseError(['collect'])).toBeUndefined();
  });

  it('every command that declares it has no default', () => {
    for (const command of program().commands) {
      const mode = command.options.find((option: Option) => option.long === '--mode');
      if (mode)
        expect([command.name(), mode.mandatory, mode.defaultValue]).toEqual([
          command.name(),
          true,
          undefined,
        ]);
    }
  });
});

describe('numeric flags', () => {
  const numericOptions = program().commands.flatMap((command) =>
    command.options
      .filter((option: Option) => NUMERIC.test(option.flags))
      .map((option: Option) => [command.name(), option.long ?? option.flags] as const),
  );

  it('are found on every command that has them', () => {
    expect(numericOptions).toContainEqual(['import', '--max-retries']);
    expect(numericOptions.length).toBeGreaterThan(10);
  });

  it.each(numericOptions)('%s %s refuses "abc", "1.5" and others, and takes "10"', (name, flag) => {
    const base = [name, ...(name === 'import' ? ['events.ndjson'] : []), '--mode', 'simplified'];
    const required = name === 'schedule' || name === 'preview' ? ['--config', 'x.yaml'] : [];
    const args =
      name === 'resolve' || name === 'import' || name === 'collect' || name === 'sandbox'
        ? base
        : [name, ...required];
    for (const bad of ['abc', '1.5', '-1', '1e3', '0x10', '']) {
      const error = parseError([...args, flag, bad]);
      expect(error?.code).toBe('commander.invalidArgument');
      expect(error?.message).toContain('must be a whole number');
    }
    expect(parseError([...args, flag, '10'])).toBeUndefined();
  });

  it('import --backoff takes four whole numbers of milliseconds', () => {
    const args = ['import', 'events.ndjson', '--mode', 'simplified', '--backoff'];
    expect(parseError([...args, '2000,60000,1000,5000'])).toBeUndefined();
    for (const bad of ['2000,60000,1000', '2000,abc,1000,5000', '2000,60000,1000.5,5000', '1,2,5,4']) {
      expect(parseError([...args, bad])?.code).toBe('commander.invalidArgument');
    }
  });

  it('parseWholeNumber: digits only, safe integers, at least the minimum', () => {
    expect(parseWholeNumber('0', '--n', 0)).toBe(0);
    expect(parseWholeNumber(' 42 ', '--n', 1)).toBe(42);
    for (const bad of ['abc', '', ' ', '-1', '+1', '1.0', '1e3', '0x10', 'Infinity', '9007199254740993']) {
      expect(() => parseWholeNumber(bad, '--n', 0)).toThrow(`--n must be a whole number ≥ 0, got "${bad}"`);
    }
    expect(() => parseWholeNumber('0', '--n', 1)).toThrow('≥ 1');
  });
});

describe('exit codes', () => {
  it('one table: 0 done, 1 could not finish, 2 some records dead-lettered', () => {
    expect(EXIT).toEqual({ ok: 0, failed: 1, undelivered: 2 });
    expect(deliveryExitCode({ deadLettered: 0 })).toBe(0);
    expect(deliveryExitCode({ deadLettered: 3 })).toBe(2);
    expect(deliveryExitCode({ deadLettered: 3, stoppedBecause: 'credentials refused' })).toBe(1);
  });

  it('the README holds the same table', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Exit codes'));
    const rows = [...section.matchAll(/^\|\s*`?(\d)`?\s*\|/gm)].map((match) => Number(match[1]));
    expect(rows).toEqual(Object.values(EXIT));
  });
});

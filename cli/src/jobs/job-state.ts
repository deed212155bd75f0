import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import {
  createDeadLetterFile,
  loadMixpanelConfig,
  type DeadLetterSink,
  type MixpanelConfig,
} from '@idmerge/shared';
import { StateStore } from '@idmerge/warehouse-sync';

/** State lives beside the definition file (or where `state_dir` says), one folder per sync and shard. */
export function stateDirFor(
  configured: string | undefined,
  configFile: string,
  name: string,
  shardOf: { index: number; count: number } | undefined,
): string {
  const base = configured
    ? resolve(dirname(configFile), configured)
    : join(dirname(configFile), '.idmerge', 'state');
  return join(base, shardOf ? `${name}-shard-${shardOf.index}-of-${shardOf.count}` : name);
}

export interface JobStateOptions {
  /** A dry run keeps its state in a fresh temporary folder and loads no credentials. */
  dryRun?: boolean;
  shard?: { index: number; count: number };
  /** Where refused rows go (default: `dead-letter.ndjson` in the state folder). */
  deadLetter?: string;
  env?: NodeJS.ProcessEnv;
}

/** What one run of a sync definition works with, held for the run's length. */
export interface JobState {
  store: StateStore;
  deadLetterPath: string;
  deadLetter: DeadLetterSink;
  /** Undefined in a dry run: nothing is sent. */
  config: MixpanelConfig | undefined;
}

/**
 * Runs `work` with the definition's state folder locked, its credentials loaded and its dead-letter
 * file open; the file is closed and the lock released however `work` ends. Both sync kinds (events
 * and profiles, and lookup tables) run this way, from `idmerge sync` and `idmerge schedule` alike.
 */
export async function withJobState<T>(
  definition: { name: string; state_dir?: string | undefined },
  configFile: string,
  options: JobStateOptions,
  work: (state: JobState) => Promise<T>,
): Promise<T> {
  const stateDir = options.dryRun
    ? mkdtempSync(join(tmpdir(), 'idmerge-dry-run-'))
    : stateDirFor(definition.state_dir, configFile, definition.name, options.shard);
  const store = new StateStore(stateDir);
  const unlock = store.lock(definition.name);
  try {
    const deadLetterPath = options.deadLetter ?? join(stateDir, 'dead-letter.ndjson');
    const config = options.dryRun ? undefined : loadMixpanelConfig(options.env ?? process.env);
    const deadLetter = createDeadLetterFile(deadLetterPath, config?.secrets ?? []);
    try {
      return await work({ store, deadLetterPath, deadLetter, config });
    } finally {
      await deadLetter.close();
    }
  } finally {
    unlock();
  }
}

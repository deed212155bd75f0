import { InvalidArgumentError, type Command } from 'commander';
import type { BackoffPolicy } from '@idmerge/shared';
import { backoffPolicy, wholeNumber } from '../options.js';

interface SyncOptions {
  config: string;
  dryRun?: boolean;
  fullRefresh?: boolean;
  shard?: { index: number; count: number };
  deadLetter?: string;
  maxRetries?: number;
  backoff?: BackoffPolicy;
  allowDeletes?: boolean | number;
}

function shard(value: string): { index: number; count: number } {
  const match = /^(\d+)\/(\d+)$/.exec(value);
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (match === null || count < 1 || index >= count)
    throw new InvalidArgumentError('expected i/N with 0 ≤ i < N, e.g. 0/4');
  return { index, count };
}

export function register(program: Command): void {
  program
    .command('sync')
    .description(
      'Run a warehouse sync once: read the rows after the last run (incremental on the cursor, with lookback), map them, ' +
        'deliver them, checkpoint after every page. A killed run resumes where it stopped.',
    )
    .requiredOption('--config <file>', 'sync definition (YAML)')
    .option('--dry-run', 'read and map, send nothing, keep no state')
    .option('--full-refresh', 'read every row again (insert IDs make it safe)')
    .option(
      '--allow-deletes [n]',
      'delete_missing: this run may send more deletes than max_deletes (up to n; without n: any number)',
      wholeNumber('--allow-deletes', 0),
    )
    .option('--shard <i/N>', 'only rows whose key hashes to shard i of N', shard)
    .option('--dead-letter <path>', 'NDJSON file for rows not delivered (default: in the state folder)')
    .option(
      '--max-retries <n>',
      'retries of a request after 5xx, timeouts and connection errors (default 5)',
      wholeNumber('--max-retries', 0),
    )
    .option(
      '--backoff <ms,ms,ms,ms>',
      'retry timing: initial, max, jitter min, jitter max (default: the spec, 2000,60000,1000,5000)',
      backoffPolicy,
    )
    .action(async (options: SyncOptions) => {
      // Loaded only for this command: the warehouse drivers are heavy.
      const { isLookupSync, loadSyncDefinition } = await import('@idmerge/warehouse-sync');
      const definition = await loadSyncDefinition(options.config);
      if (isLookupSync(definition)) {
        if (options.shard !== undefined)
          throw new Error('--shard: a lookup table is replaced whole, so it cannot be sharded');
        const { formatLookupJob, runLookupJob } = await import('../jobs/lookup-job.js');
        const result = await runLookupJob(definition, options.config, options);
        console.log(formatLookupJob(definition, result));
        process.exitCode = result.exitCode;
        return;
      }
      const { formatSyncJob, runSyncJob } = await import('../jobs/sync-job.js');
      const { programFile } = await import('../worker-entry.js');
      const result = await runSyncJob(definition, options.config, { ...options, workerEntry: programFile() });
      console.log(formatSyncJob(definition, result, { dryRun: options.dryRun }));
      process.exitCode = result.exitCode;
    });
}

import { dirname } from 'node:path';
import { type BackoffPolicy } from '@idmerge/shared';
import {
  createSource,
  megabytes,
  runLookupSync,
  type LookupRunReport,
  type LookupSyncDefinition,
} from '@idmerge/warehouse-sync';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { withJobState } from './job-state.js';

export interface LookupJobOptions {
  dryRun?: boolean;
  fullRefresh?: boolean;
  deadLetter?: string;
  maxRetries?: number;
  backoff?: BackoffPolicy;
  env?: NodeJS.ProcessEnv;
}

export interface LookupJobResult {
  run: LookupRunReport;
  deadLetterPath: string;
  exitCode: ExitCode;
}

/**
 * One run of a lookup-table sync, as `idmerge sync` does it: lock the state folder, build the CSV,
 * replace the table when it changed. Exit code: ok when replaced, unchanged or a dry run, and no
 * row was kept out; undelivered when rows were kept out (dead-lettered) but the rest replaced the
 * table; failed when the table was not replaced (too large, empty, refused, credentials, outage).
 */
export async function runLookupJob(
  definition: LookupSyncDefinition,
  configFile: string,
  options: LookupJobOptions = {},
): Promise<LookupJobResult> {
  const env = options.env ?? process.env;
  return withJobState(
    definition,
    configFile,
    { ...options, env },
    async ({ store, deadLetter, deadLetterPath, config }) => {
      const source = createSource(definition, dirname(configFile), env);
      let run: LookupRunReport;
      try {
        await source.connect();
        run = await runLookupSync(
          definition,
          source,
          store,
          {
            config,
            deadLetter,
            replace: {
              retry: {
                ...(options.maxRetries !== undefined ? { maxRetries: options.maxRetries } : {}),
                ...(options.backoff !== undefined ? { backoff: options.backoff } : {}),
              },
              onWait: (why, ms) =>
                process.stderr.write(
                  `lookup table ${definition.mapping.lookup_table_id}: ${why}, sending again in ${Math.ceil(ms / 1000)} s\n`,
                ),
            },
          },
          { fullRefresh: options.fullRefresh },
        );
      } finally {
        await source.close();
      }
      const sent = run.outcome === 'replaced' || run.outcome === 'unchanged' || run.outcome === 'dry_run';
      const exitCode = !sent ? EXIT.failed : run.deadLettered > 0 ? EXIT.undelivered : EXIT.ok;
      return { run, deadLetterPath, exitCode };
    },
  );
}

const OUTCOME_TEXT: Record<LookupRunReport['outcome'], string> = {
  replaced: 'replaced (Mixpanel took the whole table)',
  unchanged: 'unchanged since the last replace: nothing sent',
  dry_run: 'dry run: nothing sent',
  too_large: 'NOT replaced: too large, nothing sent',
  empty: 'NOT replaced: no row to send, nothing sent',
  refused: 'NOT replaced: Mixpanel refused the table',
  failed: 'NOT replaced: the replace did not go through',
};

/** The run report as people read it. */
export function formatLookupJob(definition: LookupSyncDefinition, result: LookupJobResult): string {
  const { run } = result;
  const { problems } = run.csv;
  const lines = [
    `sync ${definition.name}: lookup table ${run.tableId}`,
    `outcome:           ${OUTCOME_TEXT[run.outcome]}`,
    `rows read:         ${run.csv.rowsRead}`,
    `rows in the table: ${run.csv.rows} (${megabytes(run.csv.bytes)}, ${run.csv.bytes} bytes of CSV)`,
    ...(run.requests > 0 ? [`requests:          ${run.requests}`] : []),
  ];
  const kept = Object.entries(problems).filter(([, count]) => count > 0);
  if (kept.length > 0)
    lines.push(
      `rows kept out:     ${run.deadLettered} (${kept.map(([kind, count]) => `${count} ${kind}`).join(', ')})`,
    );
  if (run.reason !== undefined) lines.push(`why:               ${run.reason}`);
  if (run.deadLettered > 0) lines.push(`dead-letter file:  ${result.deadLetterPath}`);
  return lines.join('\n');
}
